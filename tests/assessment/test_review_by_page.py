"""The review screen groups a URL's items by the gallery page the crawler found them on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.models import ItemStatus
from openhotline.evidence.actions import do_store_media
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource, UrlState
from tests.assessment.conftest import generated_image, items_of
from tests.support.browser import log_in_by_enrolment, press

URL = "http://pages.test/gallery"
PAGE_2 = "http://pages.test/gallery?page=2"


def gallery(hotline: Organisation, pages: list[str], seed: int = 40) -> ReportedUrl:
    """A reported URL with one item per entry of `pages` ("" is the reported page)."""
    filed = do_file_report(hotline, source=ReportSource.PUBLIC, urls=[URL])
    url = filed.urls.get()
    for n, page_url in enumerate(pages):
        do_store_media(
            generated_image(seed + n),
            mime="image/png",
            reported_url=url,
            source_url=f"{page_url or URL}/img{n}.png",
            page_url=page_url,
        )
    ReportedUrl.objects.filter(pk=url.pk).update(state=UrlState.AWAITING_ASSESSMENT)
    return url


def sections(body: str) -> list[tuple[str, list[str]]]:
    """(heading, item codes) per page group, in the order shown."""
    grid = body.split('id="grid-new"')[1].split("</section>")[0]
    out = []
    for part in grid.split('<h3 class="page-group">')[1:]:
        heading = part.split("</h3>")[0]
        codes = [chunk.split('"')[0] for chunk in part.split('data-code="')[1:]]
        out.append((heading, codes))
    return out


@pytest.mark.django_db
def test_items_are_grouped_under_a_heading_per_page_in_first_seen_order(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    # Stored as a crawl stores them: as they arrive, pages interleaved.
    url = gallery(hotline_a, [PAGE_2, "", PAGE_2, ""])
    first, second, third, fourth = items_of(url)
    body = as_user(analyst).get(f"/app/review/{url.code}/").content.decode()
    groups = sections(body)
    assert [heading.split("<code>")[1].split("</code>")[0] for heading, _ in groups] == [
        URL,
        PAGE_2,
    ]
    assert "The reported page" in groups[0][0] and "Linked page" in groups[1][0]
    assert [codes for _, codes in groups] == [
        [second.code, fourth.code],
        [first.code, third.code],
    ]


@pytest.mark.django_db
def test_a_url_whose_items_are_all_on_its_own_page_has_no_page_headings(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    url = gallery(hotline_a, ["", ""])
    body = as_user(analyst).get(f"/app/review/{url.code}/").content.decode()
    assert 'class="page-group"' not in body
    assert body.count('<article class="item') == 2


@pytest.mark.django_db
def test_an_outsider_sees_no_page_groups(
    outsider: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    url = gallery(hotline_a, ["", PAGE_2])
    response = as_user(outsider).get(f"/app/review/{url.code}/")
    assert response.status_code == 404
    assert PAGE_2 not in response.content.decode()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_keys_move_through_the_groups_in_the_order_shown(
    browser_server: LiveServer, browser_page: Any, hotline_a: Organisation
) -> None:
    do_create_user("kim", hotline_a, Role.ANALYST, password="correct horse 42")
    url = gallery(hotline_a, [PAGE_2, "", ""], seed=80)
    on_page_2, first, second = items_of(url)
    page, base = browser_page, browser_server.url
    log_in_by_enrolment(page, base, "kim", "correct horse 42")
    page.goto(f"{base}/app/review/{url.code}/")
    page.wait_for_selector(f"#item-{first.code}.current")
    press(page, "4", "/classify")
    page.wait_for_selector(f"#item-{second.code}.current")
    press(page, "4", "/classify")
    # From the last item of the reported page on to the first of the next page's group.
    page.wait_for_selector(f"#item-{on_page_2.code}.current")
    press(page, "n", "/classify")
    verdicts = {
        s.media_item_id: s.current.verdict
        for s in ItemStatus.objects.filter(hotline=hotline_a).select_related("current")
    }
    assert verdicts == {
        first.pk: "not_illegal",
        second.pk: "not_illegal",
        on_page_2.pk: "not_assessable",
    }
