from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import (
    Classification,
    ItemStatus,
    ReviewDraft,
    ReviewState,
    UrlAssessment,
    UrlClaim,
)
from openhotline.audit.models import AuditEvent
from openhotline.reports.models import ReportedUrl, UrlState
from tests.assessment.conftest import items_of, make_page, mark_known

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def page(hotline_a: Organisation) -> ReportedUrl:
    return make_page(hotline_a, "http://review.test/gallery", images=3, first_seed=20)


def classify(client: Client, page: ReportedUrl, codes: list[str], **values: str) -> Any:
    return client.post(
        f"/app/review/{page.code}/classify", {"items": ",".join(codes), **values}, headers=HX
    )


def test_opening_the_review_screen_claims_the_url(
    analyst: User, page: ReportedUrl, as_user: Callable[[User], Client]
) -> None:
    response = as_user(analyst).get(f"/app/review/{page.code}/")
    assert response.status_code == 200
    assert UrlClaim.objects.get(reported_url=page).analyst == analyst
    body = response.content.decode()
    assert body.count('<article class="item') == 3
    assert "htmx.min.js" in body


def test_the_review_screen_uses_no_external_resources(
    analyst: User, page: ReportedUrl, as_user: Callable[[User], Client]
) -> None:
    body = as_user(analyst).get(f"/app/review/{page.code}/").content.decode()
    links = re.findall(r'(?:src|href|action|data-[a-z-]+)="([^"]*)"', body)
    assert links
    assert not [link for link in links if re.match(r"(https?:)?//", link)]
    # The reported URL is shown as text, never as a link to the site.
    assert 'href="http://review.test' not in body


def test_keys_save_a_verdict_and_attributes_at_once(
    analyst: User, page: ReportedUrl, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    client.get(f"/app/review/{page.code}/")
    item = items_of(page)[0]
    response = classify(client, page, [item.code], verdict="national")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="cls-{item.code}" hx-swap-oob="true"' in body
    classify(client, page, [item.code], age_group="pubescent")
    classify(client, page, [item.code], gender="female")
    classify(client, page, [item.code], is_self_generated="1")
    status = ItemStatus.objects.get(hotline=hotline_a, media_item=item)
    current = status.current
    assert (current.verdict, current.age_group, current.gender, current.is_self_generated) == (
        "national",
        "pubescent",
        "female",
        True,
    )
    assert Classification.objects.filter(media_item=item).count() == 4  # history kept
    assert current.reported_url == page


def test_an_attribute_needs_a_verdict_first(
    analyst: User, page: ReportedUrl, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    response = classify(client, page, [items_of(page)[0].code], age_group="infant")
    assert response.status_code == 400
    assert "verdict first" in response.content.decode()


def test_one_key_applies_to_all_selected_items(
    analyst: User, page: ReportedUrl, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    codes = [item.code for item in items_of(page)]
    classify(client, page, codes, verdict="not_illegal")
    assert set(
        ItemStatus.objects.filter(hotline=hotline_a).values_list("current__verdict", flat=True)
    ) == {"not_illegal"}


def test_undo_puts_items_back_as_they_were(
    analyst: User, page: ReportedUrl, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    first, second, _ = items_of(page)
    classify(client, page, [first.code], verdict="national")
    classify(client, page, [first.code, second.code], verdict="not_illegal")
    response = client.post(f"/app/review/{page.code}/undo", headers=HX)
    assert "Undone for 2 item(s)" in response.content.decode()
    verdicts = dict(
        ItemStatus.objects.filter(hotline=hotline_a).values_list("media_item", "current__verdict")
    )
    assert verdicts == {first.pk: "national"}
    client.post(f"/app/review/{page.code}/undo", headers=HX)
    assert not ItemStatus.objects.filter(hotline=hotline_a).exists()
    assert client.post(f"/app/review/{page.code}/undo", headers=HX).status_code == 400
    assert AuditEvent.objects.filter(action="media.classification_undone").count() == 3


def test_baseline_on_new_material_waits_for_a_senior(
    analyst: User, page: ReportedUrl, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    item = items_of(page)[0]
    body = classify(as_user(analyst), page, [item.code], verdict="baseline").content.decode()
    assert "awaiting a senior analyst" in body
    assert ItemStatus.objects.get(media_item=item).review_state == ReviewState.AWAITING_CONFIRMATION


def test_known_items_are_collapsed_with_their_reason(
    analyst: User, page: ReportedUrl, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    known = items_of(page)[2]
    mark_known(hotline_a, known)
    body = as_user(analyst).get(f"/app/review/{page.code}/").content.decode()
    assert "Known material: 1 item matched by hash, hidden" in body
    assert "set ICSE-demo, distance 4" in body
    new_grid = body.split('id="grid-new"')[1].split("</section>")[0]
    assert known.code not in new_grid
    # Its preview is not even requested until the analyst opens the section.
    assert f'data-src="/app/media/{known.code}/thumb.jpg' in body


def test_the_site_type_is_saved_and_used_when_finishing(
    analyst: User,
    page: ReportedUrl,
    as_user: Callable[[User], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = as_user(analyst)
    response = client.post(
        f"/app/review/{page.code}/site-type",
        {"site_type": "image_board", "domain_dedicated": "1"},
        headers=HX,
    )
    assert response.status_code == 200
    assert ReviewDraft.objects.get(reported_url=page).site_type == "image_board"
    codes = [item.code for item in items_of(page)]
    refused = client.post(f"/app/review/{page.code}/finish", headers=HX)
    assert refused.status_code == 400 and "3 item(s) still to classify" in refused.content.decode()
    classify(client, page, codes[:2], verdict="not_illegal")
    classify(client, page, codes[2:], verdict="national")
    with django_capture_on_commit_callbacks(execute=True):
        finished = client.post(f"/app/review/{page.code}/finish", headers=HX)
    assert finished.status_code == 200 and finished["HX-Redirect"] == "/app/"
    assessment = UrlAssessment.objects.get(reported_url=page)
    assert (assessment.verdict, assessment.site_type, assessment.domain_dedicated) == (
        "national",
        "image_board",
        True,
    )
    page.refresh_from_db()
    assert page.state == UrlState.ILLEGAL
    assert not UrlClaim.objects.filter(reported_url=page).exists()


def test_a_page_without_media_is_finished_with_a_page_verdict(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    empty = make_page(hotline_a, "http://text.test/")
    client = as_user(analyst)
    client.post(f"/app/review/{empty.code}/finish", {"page_verdict": "not_illegal"}, headers=HX)
    assert UrlAssessment.objects.get(reported_url=empty).verdict == "not_illegal"


def test_another_analysts_claim_makes_the_screen_read_only(
    analyst: User,
    analyst2: User,
    senior: User,
    page: ReportedUrl,
    as_user: Callable[[User], Client],
) -> None:
    as_user(analyst).get(f"/app/review/{page.code}/")
    other = as_user(analyst2)
    body = other.get(f"/app/review/{page.code}/").content.decode()
    assert "alice is working on this URL: read only." in body
    assert 'data-can-work="0"' in body
    response = classify(other, page, [items_of(page)[0].code], verdict="national")
    assert response.status_code == 409
    assert other.post(f"/app/review/{page.code}/release").status_code == 403
    assert as_user(senior).post(f"/app/review/{page.code}/release").status_code == 302
    assert classify(other, page, [items_of(page)[0].code], verdict="national").status_code == 200


def test_revealing_steps_from_grey_to_colour_and_is_audited(
    analyst: User, page: ReportedUrl, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    item = items_of(page)[0]
    url = f"/app/review/{page.code}/reveal/{item.code}"
    assert client.post(url, {"step": "colour"}, headers=HX).status_code == 400  # grey first
    grey = client.post(url, {"step": "grey"}, headers=HX).content.decode()
    src = re.search(r'id="img-[^"]+"[^>]*src="([^"]+)"', grey, re.S)
    assert src and "/view.jpg?t=" in src.group(1)
    assert client.get(src.group(1).replace("&amp;", "&")).status_code == 200
    assert client.post(url, {"step": "colour"}, headers=HX).status_code == 200
    assert AuditEvent.objects.filter(action="media.revealed", object_id=item.code).count() == 2
    assert "Revealed: 1 this session · 1 today" in grey


def test_items_of_another_page_cannot_be_used(
    analyst: User, page: ReportedUrl, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    other = make_page(hotline_a, "http://other.test/", images=1, first_seed=90)
    foreign = items_of(other)[0]
    client = as_user(analyst)
    assert classify(client, page, [foreign.code], verdict="national").status_code == 400
    url = f"/app/review/{page.code}/reveal/{foreign.code}"
    assert client.post(url, {"step": "grey"}).status_code == 404
    assert not ItemStatus.objects.filter(media_item=foreign).exists()


def test_the_outsider_is_refused_on_every_review_view(
    outsider: User, page: ReportedUrl, as_user: Callable[[User], Client]
) -> None:
    client = as_user(outsider)
    code = items_of(page)[0].code
    assert client.get(f"/app/review/{page.code}/").status_code == 404
    for action, data in [
        ("classify", {"items": code, "verdict": "national"}),
        ("undo", {}),
        (f"reveal/{code}", {"step": "grey"}),
        ("site-type", {"site_type": "forum"}),
        ("finish", {"page_verdict": "not_illegal"}),
        ("claim", {}),
        ("release", {}),
    ]:
        assert client.post(f"/app/review/{page.code}/{action}", data).status_code == 404, action
    assert not UrlClaim.objects.exists() and not ItemStatus.objects.exists()


@pytest.mark.parametrize("persona", ["police", "isp_operator"])
def test_other_organisations_are_refused(
    persona: str,
    request: pytest.FixtureRequest,
    page: ReportedUrl,
    as_user: Callable[[User], Client],
) -> None:
    client = as_user(request.getfixturevalue(persona))
    assert client.get(f"/app/review/{page.code}/").status_code == 404
