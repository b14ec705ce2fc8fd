"""A withdrawn or corrected referral is a state on the referral (issue 12).

When a shared item re-classified on another URL changes the verdict in force
of a URL already referred, the ``PoliceReferral`` itself says withdrawn or
corrected, when and why: on the police portal's list and page, in the LEA API,
and on the hotline's timeline as before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.actions import do_create_api_key, do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import (
    do_classify_item,
    do_finish_url,
    do_second_opinion,
)
from openhotline.assessment.actions.review import do_classify_items
from openhotline.assessment.models import ItemStatus, ReviewState
from openhotline.network.models import PoliceReferral, ReferralState
from openhotline.reports.models import ReportedUrl
from tests.network.conftest import media_of, page_with_media, record_hosting

pytestmark = pytest.mark.django_db


@pytest.fixture
def senior(hotline_a: Organisation) -> User:
    return do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 9")


@pytest.fixture
def run(django_capture_on_commit_callbacks: Any) -> Any:
    """Run an action with its after-commit signals, as a request would."""

    def call(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return call


@pytest.fixture
def referred(hotline_a: Organisation, analyst: User, senior: User, run: Any) -> ReportedUrl:
    """A DK page finished baseline and confirmed: referred to the Danish police."""
    page = page_with_media(hotline_a, "http://gallery.test/first", images=1)
    record_hosting(page, country="DK")
    (item,) = media_of(page)
    status = run(do_classify_item, hotline_a, item, "baseline", analyst=analyst, reported_url=page)
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    run(do_finish_url, page, analyst)
    assert not PoliceReferral.objects.filter(reported_url=page).exists()
    run(do_second_opinion, status, senior, "baseline")
    assert PoliceReferral.objects.get(reported_url=page).state == ReferralState.ACTIVE
    return page


def reclassify_on_another_page(
    page: ReportedUrl, verdict: str, analyst: User, senior: User, run: Any
) -> None:
    """The same picture on a second page, re-classified there and confirmed."""
    second = page_with_media(page.hotline, "http://other.test/second", images=1)
    (item,) = media_of(second)
    assert media_of(page) == [item]
    run(do_classify_items, second, analyst, [item], {"verdict": verdict}, confirm_shared=True)
    run(do_second_opinion, ItemStatus.objects.get(media_item=item), senior, verdict)


def test_a_withdrawn_referral_says_so_on_the_portal_in_the_api_and_on_the_timeline(
    referred: ReportedUrl,
    analyst: User,
    senior: User,
    police: User,
    police_org: Organisation,
    run: Any,
    as_user: Any,
    client: Client,
) -> None:
    referral = PoliceReferral.objects.get(reported_url=referred)
    officer = as_user(police)
    listed = officer.get("/lea/referrals/").content.decode()
    assert referral.code in listed and "Withdrawn by the hotline" not in listed

    reclassify_on_another_page(referred, "not_illegal", analyst, senior, run)

    referral.refresh_from_db()
    assert referral.state == ReferralState.WITHDRAWN
    assert referral.state_changed_at is not None
    assert referral.state_changed_at > referral.created_at
    assert "not_illegal" in referral.state_reason and "baseline" in referral.state_reason
    listed = officer.get("/lea/referrals/").content.decode()
    assert '<span class="state withdrawn">Withdrawn by the hotline</span>' in listed
    page = officer.get(f"/lea/referrals/{referral.code}/").content.decode()
    assert 'id="referral-state"' in page and "Withdrawn by the hotline" in page
    assert referral.state_reason in page
    # The timeline keeps its entry, as before.
    assert referred.timeline.filter(
        kind="network.referral_withdrawn", detail__referral=referral.code
    ).exists()

    _, secret = do_create_api_key(police_org, "ingest", "read")
    headers = {"Authorization": f"Bearer {secret}"}
    (row,) = client.get("/api/v1/lea/referrals", headers=headers).json()
    assert row["code"] == referral.code
    assert row["state"] == "withdrawn"
    assert row["state_reason"] == referral.state_reason
    assert row["state_changed_at"] is not None
    # A poller that had the referral already gets it again once withdrawn.
    since = (referral.created_at + timedelta(microseconds=1)).isoformat()
    again = client.get("/api/v1/lea/referrals", {"since": since}, headers=headers).json()
    assert [r["code"] for r in again] == [referral.code]
    later = (referral.state_changed_at + timedelta(seconds=1)).isoformat()
    assert client.get("/api/v1/lea/referrals", {"since": later}, headers=headers).json() == []


def test_a_referral_still_illegal_under_another_verdict_is_corrected(
    referred: ReportedUrl, analyst: User, senior: User, police: User, run: Any, as_user: Any
) -> None:
    reclassify_on_another_page(referred, "national", analyst, senior, run)
    referral = PoliceReferral.objects.get(reported_url=referred)
    assert referral.state == ReferralState.CORRECTED
    assert "national" in referral.state_reason and "baseline" in referral.state_reason
    page = as_user(police).get(f"/lea/referrals/{referral.code}/").content.decode()
    assert '<span class="state corrected">Corrected by the hotline</span>' in page


def test_the_outsider_sees_no_state_of_other_referrals(
    referred: ReportedUrl,
    analyst: User,
    senior: User,
    police_nl: User,
    outsider: User,
    run: Any,
    as_user: Any,
) -> None:
    reclassify_on_another_page(referred, "not_illegal", analyst, senior, run)
    referral = PoliceReferral.objects.get(reported_url=referred)
    dutch = as_user(police_nl)
    assert referral.code not in dutch.get("/lea/referrals/").content.decode()
    assert dutch.get(f"/lea/referrals/{referral.code}/").status_code == 404
    # Another hotline's analyst is not law enforcement at all.
    assert as_user(outsider).get(f"/lea/referrals/{referral.code}/").status_code == 404
