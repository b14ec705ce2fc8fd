"""The four-eyes screen: blind second opinions, disputes with both opinions, reveal, bulk."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import do_classify_item, do_finish_url
from openhotline.assessment.models import (
    ClassificationSource,
    ItemStatus,
    RevealDay,
    ReviewState,
    WorkspaceSettings,
)
from openhotline.audit.models import AuditEvent
from openhotline.reports.models import ReportedUrl
from tests.assessment.conftest import items_of, make_page

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def third(hotline_a: Organisation) -> User:
    return do_create_user("theo", hotline_a, Role.ANALYST, password="correct horse 7")


def finished(hotline: Organisation, analyst: User, url: str, verdicts: list[str]) -> ReportedUrl:
    page = make_page(
        hotline,
        url,
        images=len(verdicts),
        first_seed=len(url) * 10,
        description="Found via a forum link, pictures of a child",
    )
    for item, verdict in zip(items_of(page), verdicts, strict=True):
        do_classify_item(hotline, item, verdict, analyst=analyst, reported_url=page)
    do_finish_url(page, analyst)
    return page


def status_of(page: ReportedUrl, n: int = 0) -> ItemStatus:
    return ItemStatus.objects.select_related("current").get(media_item=items_of(page)[n])


def test_blind_confirmation_hides_the_first_verdict_and_shows_the_context(
    hotline_a: Organisation, analyst: User, senior: User, as_user: Callable[[User], Client]
) -> None:
    page = finished(hotline_a, analyst, "http://blind.test/a", ["national"])
    body = as_user(senior).get("/app/confirm/").content.decode()
    item = items_of(page)[0]
    assert f'id="img-{item.code}"' in body and 'data-step="blurred"' in body
    assert page.url in body and "Found via a forum link" in body
    assert "Blind confirmation" in body
    assert 'class="first-verdict"' not in body
    # Nor a link to the review page, which shows the first verdicts.
    assert f'href="/app/review/{page.code}/"' not in body
    # No verdict is chosen for the confirmer.
    assert '<option value="" selected>' in body
    assert "selected>Nationally illegal" not in body


def test_a_blind_opinion_that_differs_opens_a_dispute_whose_settler_sees_both(
    hotline_a: Organisation,
    analyst: User,
    senior: User,
    third: User,
    as_user: Callable[[User], Client],
) -> None:
    page = finished(hotline_a, analyst, "http://blind.test/b", ["baseline"])
    item = items_of(page)[0]
    senior_client = as_user(senior)
    # Blind: "agree" without a verdict of one's own is refused.
    senior_client.post(f"/app/confirm/{item.code}/agree", {"hotline": hotline_a.pk})
    assert status_of(page).review_state == ReviewState.AWAITING_CONFIRMATION
    senior_client.post(
        f"/app/confirm/{item.code}/opinion",
        {"hotline": hotline_a.pk, "verdict": "national", "note": "looks adult-ish, not sure"},
    )
    assert status_of(page).review_state == ReviewState.DISPUTED
    body = as_user(third).get("/app/confirm/").content.decode()
    assert body.count('class="opinion"') == 2
    assert "Baseline (illegal worldwide)" in body and "Nationally illegal" in body
    assert "looks adult-ish, not sure" in body
    # The two who disagreed cannot settle it.
    as_user(analyst).post(
        f"/app/confirm/{item.code}/settle", {"hotline": hotline_a.pk, "verdict": "baseline"}
    )
    assert status_of(page).review_state == ReviewState.DISPUTED
    as_user(third).post(
        f"/app/confirm/{item.code}/settle",
        {"hotline": hotline_a.pk, "verdict": "baseline", "note": "clearly a child"},
    )
    settled = status_of(page)
    assert settled.review_state == ReviewState.FINAL and settled.current.verdict == "baseline"
    assert settled.current.note == "clearly a child"


def test_the_same_blind_verdict_confirms(
    hotline_a: Organisation, analyst: User, senior: User, as_user: Callable[[User], Client]
) -> None:
    page = finished(hotline_a, analyst, "http://blind.test/c", ["baseline"])
    item = items_of(page)[0]
    as_user(senior).post(
        f"/app/confirm/{item.code}/opinion", {"hotline": hotline_a.pk, "verdict": "baseline"}
    )
    status = status_of(page)
    assert status.review_state == ReviewState.FINAL and status.confirmed_by == senior


def test_seeing_confirmation_shows_the_first_verdict_and_refuses_a_pointless_dispute(
    hotline_a: Organisation, analyst: User, senior: User, as_user: Callable[[User], Client]
) -> None:
    WorkspaceSettings.objects.create(hotline=hotline_a, blind_confirmation=False)
    page = finished(hotline_a, analyst, "http://seeing.test/", ["national"])
    item = items_of(page)[0]
    client = as_user(senior)
    body = client.get("/app/confirm/").content.decode()
    assert 'class="first-verdict"' in body
    client.post(
        f"/app/confirm/{item.code}/disagree", {"hotline": hotline_a.pk, "verdict": "national"}
    )
    assert status_of(page).review_state == ReviewState.AWAITING_CONFIRMATION
    client.post(f"/app/confirm/{item.code}/disagree", {"hotline": hotline_a.pk, "verdict": ""})
    assert status_of(page).review_state == ReviewState.AWAITING_CONFIRMATION
    client.post(f"/app/confirm/{item.code}/agree", {"hotline": hotline_a.pk})
    assert status_of(page).review_state == ReviewState.FINAL


def test_selected_items_are_confirmed_at_once(
    hotline_a: Organisation, analyst: User, senior: User, as_user: Callable[[User], Client]
) -> None:
    page = finished(hotline_a, analyst, "http://bulk.test/", ["baseline", "baseline", "national"])
    codes = [item.code for item in items_of(page)]
    client = as_user(senior)
    client.post("/app/confirm-selected", {"item": codes[:2]})  # blind: a verdict is needed
    assert status_of(page, 0).review_state == ReviewState.AWAITING_CONFIRMATION
    client.post("/app/confirm-selected", {"item": codes[:2], "verdict": "baseline"})
    assert [status_of(page, n).review_state for n in range(3)] == [
        ReviewState.FINAL,
        ReviewState.FINAL,
        ReviewState.AWAITING_CONFIRMATION,
    ]


def test_the_confirmer_reveals_items_of_a_finished_url_counted_and_audited(
    hotline_a: Organisation, analyst: User, senior: User, as_user: Callable[[User], Client]
) -> None:
    page = finished(hotline_a, analyst, "http://reveal.test/", ["baseline"])
    item = items_of(page)[0]
    client = as_user(senior)
    url = f"/app/review/{page.code}/reveal/{item.code}"
    grey = client.post(url, {"step": "grey"}, headers=HX)
    assert grey.status_code == 200
    assert 'data-step="grey"' in grey.content.decode()
    assert client.post(url, {"step": "colour"}, headers=HX).status_code == 200
    assert RevealDay.objects.get(user=senior).revealed == 1
    assert (
        AuditEvent.objects.filter(
            action="media.revealed", object_id=item.code, actor=senior
        ).count()
        == 2
    )


def test_the_list_costs_the_same_number_of_queries_for_more_items(
    hotline_a: Organisation, analyst: User, senior: User, as_user: Callable[[User], Client]
) -> None:
    client = as_user(senior)
    finished(hotline_a, analyst, "http://count.test/a", ["baseline", "national"])
    client.get("/app/confirm/")
    with CaptureQueriesContext(connection) as few:
        client.get("/app/confirm/")
    finished(hotline_a, analyst, "http://count.test/bb", ["baseline"] * 5)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/app/confirm/").content.decode()
    assert body.count('class="item confirm-item') == 7
    assert len(many) == len(few)


def test_an_outsider_sees_and_decides_nothing(
    hotline_a: Organisation,
    analyst: User,
    outsider: User,
    as_user: Callable[[User], Client],
) -> None:
    page = finished(hotline_a, analyst, "http://private.test/", ["baseline"])
    item = items_of(page)[0]
    client = as_user(outsider)
    body = client.get("/app/confirm/").content.decode()
    assert item.code not in body and page.url not in body
    for action in ("agree", "opinion", "settle", "disagree"):
        response = client.post(
            f"/app/confirm/{item.code}/{action}", {"hotline": hotline_a.pk, "verdict": "baseline"}
        )
        assert response.status_code == 404
    response = client.post(
        f"/app/review/{page.code}/reveal/{item.code}", {"step": "grey"}, headers=HX
    )
    assert response.status_code == 404
    client.post("/app/confirm-selected", {"item": [item.code], "verdict": "baseline"})
    assert status_of(page).review_state == ReviewState.AWAITING_CONFIRMATION


def test_a_page_verdict_is_confirmed_blind_too(
    hotline_a: Organisation, analyst: User, senior: User, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://nomedia.test/")
    assessment = do_finish_url(page, analyst, verdict="baseline")
    assert assessment.page_review_state == ReviewState.AWAITING_CONFIRMATION
    client = as_user(senior)
    body = client.get("/app/confirm/").content.decode()
    assert page.url in body and "A page without media" in body
    client.post(f"/app/confirm-page/{page.code}/opinion", {"verdict": "baseline"})
    assessment.refresh_from_db()
    assert assessment.is_in_force()


def test_a_near_hash_match_waits_and_is_shown_with_its_page(
    hotline_a: Organisation, senior: User, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://near.test/", images=1, first_seed=500)
    item = items_of(page)[0]
    status = do_classify_item(
        hotline_a,
        item,
        "baseline",
        analyst=None,
        source=ClassificationSource.HASH_MATCH,
        reason="set X, distance 12 (PDQ)",
    )
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    body = as_user(senior).get("/app/confirm/").content.decode()
    assert f'data-reveal-url="/app/review/{page.code}/reveal/{item.code}"' in body
    assert page.url in body
