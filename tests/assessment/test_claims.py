from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.claims import (
    ClaimError,
    do_claim_url,
    do_expire_claims,
    do_release_claim,
    live_claim,
    touch_claim,
)
from openhotline.assessment.models import UrlClaim, WorkspaceSettings
from openhotline.audit.models import AuditEvent
from tests.assessment.conftest import make_page

pytestmark = pytest.mark.django_db


def idle(claim: UrlClaim, minutes: int) -> None:
    UrlClaim.objects.filter(pk=claim.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_a_claimed_url_is_locked_for_other_analysts(
    hotline_a: Organisation, analyst: User, analyst2: User
) -> None:
    page = make_page(hotline_a, "http://lock.test/")
    do_claim_url(page, analyst)
    with pytest.raises(ClaimError, match="claimed by alice"):
        do_claim_url(page, analyst2)
    assert live_claim(page).analyst == analyst  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(action="reported_url.claimed").count() == 1


def test_an_idle_claim_expires_and_can_be_taken_over(
    hotline_a: Organisation, analyst: User, analyst2: User, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_CLAIM_IDLE_MINUTES = 30
    page = make_page(hotline_a, "http://idle.test/")
    claim = do_claim_url(page, analyst)
    idle(claim, 29)
    with pytest.raises(ClaimError):
        do_claim_url(page, analyst2)
    idle(claim, 31)
    assert live_claim(page) is None
    assert do_claim_url(page, analyst2).analyst == analyst2
    assert not touch_claim(page, analyst)


def test_the_idle_time_is_a_hotline_setting(
    hotline_a: Organisation, analyst: User, analyst2: User
) -> None:
    WorkspaceSettings.objects.create(hotline=hotline_a, claim_idle_minutes=5)
    page = make_page(hotline_a, "http://short.test/")
    idle(do_claim_url(page, analyst), 6)
    assert do_claim_url(page, analyst2).analyst == analyst2


def test_activity_renews_the_claim(hotline_a: Organisation, analyst: User) -> None:
    page = make_page(hotline_a, "http://renew.test/")
    claim = do_claim_url(page, analyst)
    idle(claim, 29)
    assert touch_claim(page, analyst)
    claim.refresh_from_db()
    assert claim.last_seen_at > timezone.now() - timedelta(minutes=1)


def test_only_a_senior_releases_someone_elses_claim(
    hotline_a: Organisation, analyst: User, analyst2: User, senior: User
) -> None:
    page = make_page(hotline_a, "http://release.test/")
    do_claim_url(page, analyst)
    with pytest.raises(ClaimError, match="senior"):
        do_release_claim(page, analyst2)
    assert do_release_claim(page, senior, reason="on holiday")
    assert live_claim(page) is None
    assert page.timeline.filter(kind="url.released").exists()
    assert do_claim_url(page, analyst2).analyst == analyst2


def test_housekeeping_deletes_expired_claims_only(
    hotline_a: Organisation, analyst: User, analyst2: User
) -> None:
    fresh = do_claim_url(make_page(hotline_a, "http://fresh.test/"), analyst)
    idle(do_claim_url(make_page(hotline_a, "http://stale.test/"), analyst2), 90)
    assert do_expire_claims() == 1
    assert list(UrlClaim.objects.all()) == [fresh]
