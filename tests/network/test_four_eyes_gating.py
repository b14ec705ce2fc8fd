"""Nothing leaves the hotline before its four-eyes checks pass (issue 12).

A referral (police or INTERPOL), a forward, a takedown case (and so a notice)
or a blocklist proposal exists only once every classification behind the
URL's verdict is in force; each appears right after the confirmation. A
confirmed "not illegal" after a dispute produces none, and a shared item
re-classified on another URL withdraws what its first URL set off.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import (
    do_classify_item,
    do_finish_url,
    do_page_second_opinion,
    do_second_opinion,
    do_settle_dispute,
)
from openhotline.assessment.actions.review import SharedItemChange, do_classify_items
from openhotline.assessment.models import ItemStatus, ReviewState, UrlAssessment
from openhotline.blocking.models import BlocklistEntry, EntryState
from openhotline.blocking.tasks import propose_overdue_urls
from openhotline.network.models import Forward, PoliceReferral, ReferralChannel, Route
from openhotline.network.tasks import sweep
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource, UrlState
from openhotline.takedown.actions.notices import send_due_notices
from openhotline.takedown.models import CaseState, TakedownCase
from tests.network.conftest import media_of, page_with_media, record_hosting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def propose_at_once(settings: SettingsWrapper) -> None:
    settings.OPENHOTLINE_BLOCKLIST_PROPOSE_AFTER_HOURS = "*=0"


@pytest.fixture
def senior(hotline_a: Organisation) -> User:
    return do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 9")


@pytest.fixture
def third(hotline_a: Organisation) -> User:
    return do_create_user("theo", hotline_a, Role.ANALYST, password="correct horse 7")


@pytest.fixture
def run(django_capture_on_commit_callbacks: Any) -> Any:
    """Run an action with its after-commit signals, as a request would."""

    def call(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return call


def effects(url: ReportedUrl) -> dict[str, int]:
    """Everything that would leave the hotline for this URL, counted."""
    return {
        "route": Route.objects.filter(reported_url=url).count(),
        "referral": PoliceReferral.objects.filter(reported_url=url).count(),
        "forward": Forward.objects.filter(sender_url=url).count(),
        "case": TakedownCase.objects.filter(reported_url=url).count(),
        "proposal": BlocklistEntry.objects.filter(evidence=url).count(),
    }


NOTHING = {"route": 0, "referral": 0, "forward": 0, "case": 0, "proposal": 0}


def finish_new_baseline(run: Any, page: ReportedUrl, analyst: User) -> list[ItemStatus]:
    statuses = [
        run(do_classify_item, page.hotline, item, "baseline", analyst=analyst, reported_url=page)
        for item in media_of(page)
    ]
    assert {s.review_state for s in statuses} == {ReviewState.AWAITING_CONFIRMATION}
    run(do_finish_url, page, analyst)
    # The safety nets must not route or propose it either.
    run(sweep)
    run(propose_overdue_urls)
    return statuses


def test_a_national_referral_and_its_case_wait_for_the_confirmation(
    hotline_a: Organisation, analyst: User, senior: User, run: Any
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/dk", images=2)
    record_hosting(page, country="DK")
    first, second = finish_new_baseline(run, page, analyst)
    assert effects(page) == NOTHING
    assert not UrlAssessment.objects.get(reported_url=page).is_in_force()

    run(do_second_opinion, first, senior, "baseline")
    assert effects(page) == NOTHING  # one item still waits

    run(do_second_opinion, second, senior, "baseline")
    assert effects(page) == {**NOTHING, "route": 1, "referral": 1, "case": 1}
    referral = PoliceReferral.objects.get(reported_url=page)
    assert (referral.channel, referral.country) == (ReferralChannel.NATIONAL, "DK")
    run(propose_overdue_urls)
    assert effects(page)["proposal"] == 1


def test_a_forward_waits_for_the_confirmation(
    hotline_a: Organisation, hotline_b: Organisation, analyst: User, senior: User, run: Any
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/nl", images=1)
    record_hosting(page, country="NL")
    (status,) = finish_new_baseline(run, page, analyst)
    assert effects(page) == NOTHING
    assert not ReportedUrl.objects.filter(hotline=hotline_b).exists()
    run(do_second_opinion, status, senior, "baseline")
    assert effects(page)["forward"] == 1
    assert ReportedUrl.objects.filter(hotline=hotline_b).count() == 1


def test_an_interpol_referral_waits_for_the_confirmation(
    hotline_a: Organisation, analyst: User, senior: User, run: Any
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/br", images=1)
    record_hosting(page, country="BR")
    (status,) = finish_new_baseline(run, page, analyst)
    assert effects(page) == NOTHING
    run(do_second_opinion, status, senior, "baseline")
    referral = PoliceReferral.objects.get(reported_url=page)
    assert referral.channel == ReferralChannel.INTERPOL


def test_a_settled_not_illegal_after_a_dispute_sends_nothing(
    hotline_a: Organisation, analyst: User, senior: User, third: User, run: Any
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/dispute", images=1)
    record_hosting(page, country="DK")
    (status,) = finish_new_baseline(run, page, analyst)
    assert run(do_second_opinion, status, senior, "not_illegal") == ReviewState.DISPUTED
    assert effects(page) == NOTHING
    status.refresh_from_db()
    run(do_settle_dispute, status, third, "not_illegal", note="adult, clearly")
    page.refresh_from_db()
    assert page.state == UrlState.NOT_ILLEGAL
    assessment = UrlAssessment.objects.get(reported_url=page)
    assert assessment.is_in_force() and assessment.verdict == "not_illegal"
    run(sweep)
    run(propose_overdue_urls)
    run(send_due_notices)
    assert effects(page) == NOTHING
    assert mail.outbox == []


def test_a_page_without_media_waits_for_its_own_confirmation(
    hotline_a: Organisation, analyst: User, senior: User, run: Any
) -> None:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://links.test/"])
    page = report.urls.get()
    record_hosting(page, country="BR")
    assessment = run(do_finish_url, page, analyst, verdict="baseline")
    assert assessment.page_review_state == ReviewState.AWAITING_CONFIRMATION
    run(sweep)
    assert effects(page) == NOTHING
    assert run(do_page_second_opinion, assessment, senior, "baseline") == ReviewState.FINAL
    assert PoliceReferral.objects.get(reported_url=page).channel == ReferralChannel.INTERPOL


def test_a_not_illegal_page_without_media_takes_effect_at_once(
    hotline_a: Organisation, analyst: User, run: Any
) -> None:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://fine.test/"])
    page = report.urls.get()
    assessment = run(do_finish_url, page, analyst, verdict="not_illegal")
    assert assessment.is_in_force()


def test_a_reclassified_shared_item_withdraws_what_the_first_url_set_off(
    hotline_a: Organisation, analyst: User, senior: User, run: Any
) -> None:
    first = page_with_media(hotline_a, "http://gallery.test/first", images=1)
    record_hosting(first, country="DK")
    (status,) = finish_new_baseline(run, first, analyst)
    run(do_second_opinion, status, senior, "baseline")
    run(propose_overdue_urls)
    assert effects(first) == {**NOTHING, "route": 1, "referral": 1, "case": 1, "proposal": 1}

    # The same picture on a second page, where another look finds it not illegal.
    second = page_with_media(hotline_a, "http://other.test/second", images=1)
    (item,) = media_of(second)
    assert media_of(first) == [item]
    with pytest.raises(SharedItemChange) as refused:
        run(do_classify_items, second, analyst, [item], {"verdict": "not_illegal"})
    assert refused.value.urls == [first]
    assert ItemStatus.objects.get(media_item=item).current.verdict == "baseline"

    run(
        do_classify_items,
        second,
        analyst,
        [item],
        {"verdict": "not_illegal"},
        confirm_shared=True,
    )
    status = ItemStatus.objects.get(media_item=item)
    # Not the four-eyes rule's choice (not illegal needs none): a shared change always waits.
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    first.refresh_from_db()
    assert first.state == UrlState.ILLEGAL
    assert TakedownCase.objects.get(reported_url=first).state != CaseState.CLOSED

    run(do_second_opinion, status, senior, "not_illegal")
    first.refresh_from_db()
    assert first.state == UrlState.NOT_ILLEGAL
    assert UrlAssessment.objects.get(reported_url=first).verdict == "not_illegal"
    assert TakedownCase.objects.get(reported_url=first).state == CaseState.CLOSED
    assert BlocklistEntry.objects.get(evidence=first).state == EntryState.DELISTED
    kinds = set(first.timeline.values_list("kind", flat=True))
    assert {"url.verdict_changed", "network.referral_withdrawn", "takedown.closed"} <= kinds
    run(send_due_notices)
    assert mail.outbox == []


def test_a_manual_proposal_citing_a_url_still_waiting_for_four_eyes_is_refused(
    hotline_a: Organisation, analyst: User, run: Any, as_user: Any
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/manual", images=1)
    finish_new_baseline(run, page, analyst)
    response = as_user(analyst).post(
        "/app/blocking/hotline-a/propose/",
        {"value": page.url, "kind": "url", "reason": "CSAM", "evidence": page.code},
    )
    assert response.status_code == 200
    assert "not in force yet" in response.content.decode()
    assert not BlocklistEntry.objects.exists()
