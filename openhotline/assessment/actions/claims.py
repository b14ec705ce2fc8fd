"""Claiming a reported URL: one analyst works it at a time.

A claim is a lock with an idle timeout: every action on the URL renews it,
and a claim nobody touched for the hotline's ``claim_idle_minutes`` is free
for anyone to take. A senior analyst (or admin) can release anyone's claim.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from openhotline.accounts.access import has_role
from openhotline.accounts.models import SENIOR_ROLES, User
from openhotline.assessment.models import UrlClaim, WorkspaceSettings
from openhotline.audit.log import record
from openhotline.reports.actions import add_timeline
from openhotline.reports.models import ReportedUrl


class ClaimError(ValueError):
    """The URL is claimed by someone else, or the claim is not yours to release."""


def idle_minutes(hotline_id: int) -> int:
    configured = (
        WorkspaceSettings.objects.filter(hotline_id=hotline_id)
        .values_list("claim_idle_minutes", flat=True)
        .first()
    )
    return configured or settings.OPENHOTLINE_CLAIM_IDLE_MINUTES


def live_since(hotline_id: int, now: datetime | None = None) -> datetime:
    """Claims last touched at or after this moment are live."""
    return (now or timezone.now()) - timedelta(minutes=idle_minutes(hotline_id))


def live_claim(reported_url: ReportedUrl) -> UrlClaim | None:
    claim = (
        UrlClaim.objects.select_related("analyst").filter(reported_url_id=reported_url.pk).first()
    )
    if claim is None or claim.last_seen_at < live_since(reported_url.hotline_id):
        return None
    return claim


def do_claim_url(reported_url: ReportedUrl, analyst: User) -> UrlClaim:
    """Claim the URL for ``analyst``, or renew their claim; refuse if another holds it.

    1. Lock the claim row (if any) so that two analysts opening the same URL
       at the same moment cannot both win.
    2. A live claim of someone else wins; an expired one is taken over.
    3. Renewing one's own claim only moves ``last_seen_at``.
    """
    now = timezone.now()
    with transaction.atomic():
        claim = UrlClaim.objects.select_for_update().filter(reported_url=reported_url).first()
        since = live_since(reported_url.hotline_id, now)
        if claim is not None and claim.analyst_id == analyst.pk:
            claim.last_seen_at = now
            claim.save(update_fields=["last_seen_at"])
            return claim
        if claim is not None and claim.last_seen_at >= since:
            raise ClaimError(
                gettext("claimed by %(user)s") % {"user": claim.analyst.get_username()}
            )
        previous = claim.analyst.get_username() if claim is not None else ""
        claim, _ = UrlClaim.objects.update_or_create(
            reported_url=reported_url,
            defaults={
                "hotline_id": reported_url.hotline_id,
                "analyst": analyst,
                "claimed_at": now,
                "last_seen_at": now,
            },
        )
        add_timeline(
            f"Claimed by {analyst.get_username()}"
            + (f" (idle claim of {previous} expired)" if previous else ""),
            kind="url.claimed",
            reported_url=reported_url,
            actor=analyst,
        )
        record(
            "reported_url.claimed",
            actor=analyst,
            organisation=reported_url.hotline,
            obj=reported_url,
            detail={"taken_over_from": previous} if previous else {},
        )
    return claim


def touch_claim(reported_url: ReportedUrl, analyst: User) -> bool:
    """Renew ``analyst``'s claim; False when they do not hold a live one."""
    since = live_since(reported_url.hotline_id)
    return bool(
        UrlClaim.objects.filter(
            reported_url=reported_url, analyst=analyst, last_seen_at__gte=since
        ).update(last_seen_at=timezone.now())
    )


def do_release_claim(reported_url: ReportedUrl, actor: User, *, reason: str = "") -> bool:
    """Release a claim: one's own, or anyone's for a senior analyst. False if none."""
    with transaction.atomic():
        claim = (
            UrlClaim.objects.select_for_update()
            .select_related("analyst")
            .filter(reported_url=reported_url)
            .first()
        )
        if claim is None:
            return False
        own = claim.analyst_id == actor.pk
        if not own and not has_role(actor, reported_url.hotline, SENIOR_ROLES):
            raise ClaimError(gettext("only a senior analyst can release someone else's claim"))
        holder = claim.analyst.get_username()
        claim.delete()
        if not own:
            add_timeline(
                f"Claim of {holder} released by {actor.get_username()}",
                kind="url.released",
                reported_url=reported_url,
                actor=actor,
                detail={"holder": holder, "reason": reason},
            )
        record(
            "reported_url.released",
            actor=actor,
            organisation=reported_url.hotline,
            obj=reported_url,
            detail={"holder": holder, "reason": reason},
        )
    return True


def do_expire_claims(now: datetime | None = None) -> int:
    """Delete claims idle past their hotline's limit (the beat's housekeeping)."""
    moment = now or timezone.now()
    removed = 0
    for hotline_id in set(UrlClaim.objects.values_list("hotline_id", flat=True)):
        count, _ = UrlClaim.objects.filter(
            hotline_id=hotline_id, last_seen_at__lt=live_since(hotline_id, moment)
        ).delete()
        removed += count
    return removed
