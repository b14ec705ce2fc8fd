"""The review page's own facts and views: reporters' words, hosting, enlarging, hold-to-reveal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import WellbeingPrefs
from openhotline.audit.models import AuditEvent
from openhotline.crawler.models import CrawlRun, HostingRecord
from openhotline.reports.models import ReportedUrl
from tests.assessment.conftest import items_of, make_page

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_the_reporters_words_are_shown_with_their_language(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    page = make_page(
        hotline_a,
        "http://words.test/",
        description="Pictures of a <b>child</b> in a chat",
        comment="Found after a link in a game",
        where_found="A game",
        language="da",
    )
    body = as_user(analyst).get(f"/app/review/{page.code}/").content.decode()
    assert "Pictures of a &lt;b&gt;child&lt;/b&gt; in a chat" in body  # escaped, never markup
    assert "Found after a link in a game" in body and "A game" in body
    assert "written in Danish" in body


def test_the_page_says_whether_the_hosting_country_is_known(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://hosted.test/")
    client = as_user(analyst)

    def hosted_in() -> str:
        body = client.get(f"/app/review/{page.code}/").content.decode()
        return body.split('<span id="hosted-in">', 1)[1].split("</span>", 1)[0]

    assert hosted_in() == "not traced yet"
    crawl = CrawlRun.objects.create(reported_url=page, state="done")
    HostingRecord.objects.create(crawl=crawl, host="hosted.test", country="", detail={})
    assert hosted_in() == "unknown (traced, no country found)"
    ReportedUrl.objects.filter(pk=page.pk).update(hosting_country="nl")
    assert hosted_in() == "NL"


def test_nothing_is_preselected_on_the_page(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    bare = make_page(hotline_a, "http://bare.test/")
    body = as_user(analyst).get(f"/app/review/{bare.code}/").content.decode()
    assert (
        '<select id="page-verdict" name="page_verdict" required><option value="" selected>' in body
    )
    assert '<select id="site-type" name="site_type" required><option value="" selected>' in body
    # The two empty choices, nothing else (the header's language picker is outside <main>).
    assert body.split("<main", 1)[1].count(" selected>") == 2
    with_media = make_page(hotline_a, "http://media.test/", images=1, first_seed=3)
    body = as_user(analyst).get(f"/app/review/{with_media.code}/").content.decode()
    assert 'aria-pressed="true"' not in body
    assert body.count('<option value="" selected>') == 3  # age, gender, site type


def test_enlarging_needs_a_reveal_first_and_is_audited(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://big.test/", images=1, first_seed=8)
    (item,) = items_of(page)
    client = as_user(analyst)
    client.get(f"/app/review/{page.code}/")
    url = f"/app/review/{page.code}/enlarge/{item.code}"
    refused = client.post(url, {"step": "grey"}, headers=HX)
    assert refused.status_code == 400 and "Reveal the item first" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="media.enlarged").exists()
    assert client.post(url, {"step": "blurred"}, headers=HX).status_code == 400

    client.post(f"/app/review/{page.code}/reveal/{item.code}", {"step": "grey"}, headers=HX)
    response = client.post(url, {"step": "grey"}, headers=HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="enlarged-body" hx-swap-oob="innerHTML"' in body and "/view.jpg?t=" in body
    event = AuditEvent.objects.get(action="media.enlarged")
    assert event.object_id == item.code and event.actor_id == analyst.pk


def test_the_outsider_cannot_enlarge(
    outsider: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://big.test/", images=1, first_seed=8)
    (item,) = items_of(page)
    response = as_user(outsider).post(
        f"/app/review/{page.code}/enlarge/{item.code}", {"step": "grey"}, headers=HX
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="media.enlarged").exists()


def test_hold_to_reveal_is_a_wellbeing_choice_the_review_page_follows(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://hold.test/", images=1, first_seed=4)
    client = as_user(analyst)
    assert 'data-hold-reveal="0"' in client.get(f"/app/review/{page.code}/").content.decode()
    form = client.get("/app/wellbeing/").content.decode()
    assert 'name="hold_to_reveal"' in form
    response = client.post(
        "/app/wellbeing/",
        {"blur": "normal", "greyscale": "on", "hold_to_reveal": "on", "break_minutes": "50"},
    )
    assert response.status_code == 302
    assert WellbeingPrefs.objects.get(user=analyst).hold_to_reveal
    body = client.get(f"/app/review/{page.code}/").content.decode()
    assert 'data-hold-reveal="1"' in body and "Hold to reveal" in body
