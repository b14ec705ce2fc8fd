from __future__ import annotations

from typing import Any

import pytest

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import (
    AssessmentError,
    do_classify_item,
    do_confirm_item,
    do_finish_url,
    do_settle_dispute,
)
from openhotline.assessment.models import Classification, ItemStatus, ReviewState, UrlAssessment
from openhotline.assessment.signals import item_classification_in_force, url_assessed
from openhotline.evidence.actions import do_store_blob
from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource, UrlState

pytestmark = pytest.mark.django_db


@pytest.fixture
def senior(hotline_a: Organisation) -> User:
    return do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 9")


@pytest.fixture
def page(hotline_a: Organisation) -> ReportedUrl:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://page.test/x"])
    return report.urls.get()


def add_item(page: ReportedUrl, n: int) -> MediaItem:
    blob = do_store_blob(f"generated item {n}".encode())
    item = MediaItem.objects.create(
        blob=blob, sha256=blob.sha256, md5="0" * 32, sha1="0" * 40, size=blob.size
    )
    UrlMedia.objects.create(reported_url=page, media_item=item, source_url=f"http://page.test/{n}")
    return item


@pytest.fixture
def received() -> Any:
    got: list[tuple[str, dict[str, Any]]] = []

    def on_url(sender: Any, **kwargs: Any) -> None:
        got.append(("url", kwargs))

    def on_item(sender: Any, **kwargs: Any) -> None:
        got.append(("item", kwargs))

    url_assessed.connect(on_url)
    item_classification_in_force.connect(on_item)
    yield got
    url_assessed.disconnect(on_url)
    item_classification_in_force.disconnect(on_item)


def test_baseline_on_new_material_waits_for_a_senior(
    analyst: User,
    senior: User,
    page: ReportedUrl,
    hotline_a: Organisation,
    django_capture_on_commit_callbacks: Any,
    received: list[Any],
) -> None:
    item = add_item(page, 1)
    with django_capture_on_commit_callbacks(execute=True):
        status = do_classify_item(
            hotline_a, item, "baseline", analyst=analyst, age_group="prepubescent"
        )
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    assert received == []
    with pytest.raises(AssessmentError, match="only a senior analyst"):
        do_confirm_item(status, analyst, agree=True)
    with django_capture_on_commit_callbacks(execute=True):
        do_confirm_item(status, senior, agree=True)
    status.refresh_from_db()
    assert status.is_in_force() and status.confirmed_by == senior
    assert [kind for kind, _ in received] == ["item"]


def test_a_senior_cannot_confirm_their_own_classification(
    senior: User, page: ReportedUrl, hotline_a: Organisation
) -> None:
    status = do_classify_item(hotline_a, add_item(page, 7), "baseline", analyst=senior)
    with pytest.raises(AssessmentError, match="second person"):
        do_confirm_item(status, senior, agree=True)


def test_a_disagreement_goes_to_a_third_analyst_and_history_is_kept(
    analyst: User, senior: User, admin: User, page: ReportedUrl, hotline_a: Organisation
) -> None:
    item = add_item(page, 2)
    status = do_classify_item(hotline_a, item, "baseline", analyst=analyst)
    do_confirm_item(status, senior, agree=False, verdict="national")
    status.refresh_from_db()
    assert status.review_state == ReviewState.DISPUTED
    with pytest.raises(AssessmentError, match="third analyst"):
        do_settle_dispute(status, senior, "baseline")
    # The final-verdict rule is the action's own, not only the settle view's.
    for working in ("second_opinion", "not_assessable", "nonsense"):
        with pytest.raises(AssessmentError, match="choose a verdict"):
            do_settle_dispute(status, admin, working)
    status.refresh_from_db()
    assert status.review_state == ReviewState.DISPUTED
    do_settle_dispute(status, admin, "national", is_virtual=True)
    status.refresh_from_db()
    assert status.is_in_force() and status.current.verdict == "national"
    history = list(
        Classification.objects.filter(media_item=item).values_list("verdict", "analyst__username")
    )
    assert history == [("baseline", "alice"), ("national", "sara"), ("national", "adam")]


def test_finishing_a_url_takes_its_most_severe_item_and_announces_it_once_confirmed(
    analyst: User,
    senior: User,
    page: ReportedUrl,
    hotline_a: Organisation,
    django_capture_on_commit_callbacks: Any,
    received: list[Any],
) -> None:
    do_classify_item(hotline_a, add_item(page, 3), "not_illegal", analyst=analyst)
    status = do_classify_item(hotline_a, add_item(page, 4), "national", analyst=analyst)
    with django_capture_on_commit_callbacks(execute=True):
        assessment = do_finish_url(page, analyst, site_type="image_board")
    assert assessment.verdict == "national" and not assessment.is_in_force()
    page.refresh_from_db()
    assert page.state == UrlState.ILLEGAL and page.assessed_at is not None
    assert not [r for r in received if r[0] == "url"]
    with django_capture_on_commit_callbacks(execute=True):
        do_confirm_item(status, senior, agree=True)
    assessment.refresh_from_db()
    assert assessment.is_in_force()
    assert received[-1][0] == "url" and received[-1][1]["reported_url"] == page


def test_a_url_without_held_items_takes_effect_when_finished(
    analyst: User,
    page: ReportedUrl,
    hotline_a: Organisation,
    django_capture_on_commit_callbacks: Any,
    received: list[Any],
) -> None:
    do_classify_item(hotline_a, add_item(page, 13), "not_illegal", analyst=analyst)
    with django_capture_on_commit_callbacks(execute=True):
        assessment = do_finish_url(page, analyst)
    assert assessment.is_in_force()
    assert received[-1][0] == "url" and received[-1][1]["reported_url"] == page


def test_a_page_with_unsettled_items_cannot_be_finished(
    analyst: User, page: ReportedUrl, hotline_a: Organisation
) -> None:
    do_classify_item(hotline_a, add_item(page, 5), "second_opinion", analyst=analyst)
    with pytest.raises(AssessmentError, match="second opinion"):
        do_finish_url(page, analyst)


def test_a_page_without_media_needs_an_explicit_verdict(analyst: User, page: ReportedUrl) -> None:
    with pytest.raises(AssessmentError, match="choose a verdict for the page"):
        do_finish_url(page, analyst)
    with pytest.raises(AssessmentError, match="choose baseline"):
        do_finish_url(page, analyst, verdict="second_opinion")
    assert do_finish_url(page, analyst, verdict="not_illegal").verdict == "not_illegal"


def test_finishing_refuses_items_without_a_verdict_and_names_them(
    analyst: User, page: ReportedUrl, hotline_a: Organisation
) -> None:
    do_classify_item(hotline_a, add_item(page, 11), "not_illegal", analyst=analyst)
    missing = add_item(page, 12)
    with pytest.raises(AssessmentError, match=f"1 item\\(s\\) have no verdict yet.*{missing.code}"):
        do_finish_url(page, analyst, verdict="not_illegal")
    assert not UrlAssessment.objects.filter(reported_url=page).exists()
    page.refresh_from_db()
    assert page.state != UrlState.NOT_ILLEGAL


def test_classifications_stay_within_their_hotline(
    analyst: User,
    outsider: User,
    page: ReportedUrl,
    hotline_a: Organisation,
    hotline_b: Organisation,
) -> None:
    item = add_item(page, 6)
    do_classify_item(hotline_a, item, "national", analyst=analyst)
    do_classify_item(hotline_b, item, "not_illegal", analyst=outsider)
    verdicts = dict(
        ItemStatus.objects.filter(media_item=item).values_list("hotline__name", "current__verdict")
    )
    assert verdicts == {"Hotline A": "national", "Hotline B": "not_illegal"}
