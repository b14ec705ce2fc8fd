"""Re-checking illegal URLs until the material is gone, and recording the removal.

A check re-crawls the URL with the crawler's engine (same safety limits,
nothing stored) and compares what is served with the SHA-256 of the media
classified illegal there. Removal is only declared after
``OPENHOTLINE_REMOVAL_CHECKS`` consecutive checks, at least
``OPENHOTLINE_RECHECK_CONFIRM_MINUTES`` apart, that saw the material gone:
a hoster's brief outage must not count as a takedown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from openhotline.assessment.models import ItemStatus, ReviewState
from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS
from openhotline.audit.log import record
from openhotline.blocking.actions.entries import do_propose_delisting
from openhotline.blocking.models import ACTIVE_STATES
from openhotline.crawler.engine import Crawler
from openhotline.crawler.policy import site_crawl_policy
from openhotline.crawler.results import CrawlResult
from openhotline.crawler.rules import rule_for
from openhotline.evidence.models import UrlMedia
from openhotline.lib.english import in_english
from openhotline.reports.actions import add_timeline, do_set_url_state
from openhotline.reports.models import ReportedUrl, UrlState
from openhotline.takedown.models import (
    GONE_OUTCOMES,
    CaseState,
    CheckOutcome,
    Recheck,
    Relocation,
    TakedownCase,
)
from openhotline.takedown.signals import case_removed

GONE_STATUSES = frozenset({404, 410, 451})
_DNS_FAILURES = ("cannot resolve", "has no address")


@dataclass(frozen=True)
class Observation:
    outcome: str
    status: int | None = None
    illegal: int = 0
    served: int = 0
    still_served: int = 0
    detail: str = ""
    address: str | None = None


def illegal_media(reported_url: ReportedUrl) -> dict[str, int]:
    """SHA-256 → media id of the URL's items classified illegal (in force) by its hotline."""
    rows = ItemStatus.objects.filter(
        hotline=reported_url.hotline,
        media_item__url_links__reported_url=reported_url,
        review_state=ReviewState.FINAL,
        current__verdict__in=ILLEGAL_VERDICTS,
    ).values_list("media_item__sha256", "media_item_id")
    return dict(rows)


def judge(result: CrawlResult, illegal: set[str]) -> Observation:
    """What one re-crawl says about the illegal material (no database access).

    1. The page could not be fetched: a name that no longer resolves means
       the site is gone; any other failure says nothing.
    2. 404, 410 or 451: the URL is gone.
    3. Another error status says nothing (a 503 or a 403 hides, not removes).
    4. Otherwise compare hashes: none of the illegal media served any more
       means they are gone, unless a media fetch failed for a passing reason.
       A page with no classified media (a text page) counts as online.
    """
    fatal = result.fatal_error
    first = result.pages[0] if result.pages else None
    if fatal is not None or first is None or first.status is None:
        if fatal is None:
            return Observation(CheckOutcome.INCONCLUSIVE, illegal=len(illegal), detail="no answer")
        dns_gone = fatal.error == "FetchConnectError" and any(
            text in fatal.message for text in _DNS_FAILURES
        )
        return Observation(
            CheckOutcome.URL_GONE if dns_gone else CheckOutcome.INCONCLUSIVE,
            illegal=len(illegal),
            detail=f"{fatal.error}: {fatal.message}"[:500],
        )
    status, address = first.status, first.address
    if status in GONE_STATUSES:
        return Observation(CheckOutcome.URL_GONE, status, len(illegal), address=address)
    if status >= 400:
        return Observation(CheckOutcome.INCONCLUSIVE, status, len(illegal), detail=f"HTTP {status}")
    served = {m.sha256 for m in result.media if m.sha256 and not m.error}
    still = len(served & illegal)
    if still or not illegal:
        outcome, detail = CheckOutcome.ONLINE, ""
    else:
        unsure = [m for m in result.media if m.error and m.status is None]
        outcome = CheckOutcome.INCONCLUSIVE if unsure else CheckOutcome.MEDIA_GONE
        detail = f"{len(unsure)} media could not be fetched: {unsure[0].error}" if unsure else ""
    return Observation(
        outcome, status, len(illegal), len(served), still, detail[:500], address=address
    )


def observe(reported_url: ReportedUrl) -> Observation:
    """Re-crawl the URL (nothing stored) and judge it against its illegal media."""
    illegal = set(illegal_media(reported_url))
    host = (urlsplit(reported_url.url).hostname or reported_url.host or "").lower()
    rule = rule_for(reported_url.hotline, host)
    policy = site_crawl_policy(reported_url.hotline, reported_url.url, rule)
    with Crawler(policy) as crawler:
        result = crawler.crawl(reported_url.url)
    return judge(result, illegal)


def do_record_check(
    case: TakedownCase, seen: Observation, *, now: datetime | None = None
) -> TakedownCase:
    """Keep one check and move the case on; the last confirming check declares removal."""
    now = now or timezone.now()
    confirm = timedelta(minutes=settings.OPENHOTLINE_RECHECK_CONFIRM_MINUTES)
    with transaction.atomic():
        case = (
            TakedownCase.objects.select_for_update()
            .select_related("reported_url__hotline", "hotline")
            .get(pk=case.pk)
        )
        if not case.is_checked():
            return case
        Recheck.objects.create(
            case=case,
            checked_at=now,
            outcome=seen.outcome,
            status=seen.status,
            illegal_hashes=seen.illegal,
            served_hashes=seen.served,
            still_served=seen.still_served,
            detail=seen.detail,
        )
        case.last_check_at = now
        if seen.outcome in GONE_OUTCOMES:
            if case.last_gone_at is None or now - case.last_gone_at >= confirm:
                case.gone_streak += 1
                case.last_gone_at = now
                case.gone_since = case.gone_since or now
                if case.gone_streak == 1:
                    add_timeline(
                        f"Re-check: {in_english(CheckOutcome(seen.outcome).label)}; confirming",
                        kind="takedown.gone_seen",
                        reported_url=case.reported_url,
                    )
            case.next_check_at = now + confirm
            if case.gone_streak >= settings.OPENHOTLINE_REMOVAL_CHECKS:
                # The first check that saw it gone set gone_since; now at the latest.
                _mark_removed(case, case.gone_since or now)
        elif seen.outcome == CheckOutcome.ONLINE:
            if case.gone_streak:
                add_timeline(
                    "Re-check: online again", kind="takedown.online", reported_url=case.reported_url
                )
            case.gone_streak, case.gone_since, case.last_gone_at = 0, None, None
            case.next_check_at = now + timedelta(hours=settings.OPENHOTLINE_RECHECK_HOURS)
        else:
            case.next_check_at = now + confirm
        case.save()
    return case


def _mark_removed(case: TakedownCase, removed_at: datetime) -> None:
    """Record the removal, its times, the moves, and ask for the blocklist entries to go.

    Called inside ``do_record_check``'s transaction, which saves the case; sends
    ``case_removed`` in it.
    """
    url = case.reported_url
    first_report = url.reports.order_by("created_at").values_list("created_at", flat=True).first()
    case.state = CaseState.REMOVED
    case.removed_at = removed_at
    case.seconds_from_report = case.seconds_to_removal(first_report or url.created_at)
    case.seconds_from_notice = case.seconds_to_removal(case.first_notice_at)
    # The police referral is network's: its receiver fills the time from it, on this
    # case object, before the audit entry below and the caller's save.
    case.seconds_from_referral = None
    case_removed.send(sender=TakedownCase, case=case)
    moves = record_moves(case)
    url.removed_at = removed_at
    url.save(update_fields=["removed_at", "updated_at"])
    hours = (case.seconds_from_report or 0) / 3600
    moved = f"; the material moved to {len(moves)} other URL(s)" if moves else ""
    do_set_url_state(
        url,
        UrlState.REMOVED,
        message=f"Removed (gone since {removed_at:%Y-%m-%d %H:%M} UTC, {hours:.1f} h after the "
        f"report, confirmed by {case.gone_streak} checks){moved}",
    )
    for entry in url.blocklist_entries.filter(state__in=ACTIVE_STATES):
        do_propose_delisting(entry, reason=f"re-check: removed since {removed_at:%Y-%m-%d}")
    record(
        "takedown.removed",
        organisation=case.hotline,
        obj=case,
        detail={
            "url": url.code,
            "removed_at": removed_at.isoformat(),
            "seconds_from_report": case.seconds_from_report,
            "seconds_from_notice": case.seconds_from_notice,
            "seconds_from_referral": case.seconds_from_referral,
            "moved_to": len(moves),
        },
    )


def record_moves(case: TakedownCase) -> list[Relocation]:
    """Other URLs, found after this one, that show its illegal media: "moved" (ICCAM 5)."""
    url = case.reported_url
    media_ids = list(illegal_media(url).values())
    if not media_ids:
        return []
    rows = (
        UrlMedia.objects.filter(media_item_id__in=media_ids, created_at__gte=url.created_at)
        .exclude(reported_url=url)
        .exclude(reported_url__normalized_url=url.normalized_url)
        .values("reported_url")
        .annotate(n=Count("media_item", distinct=True))
    )
    found = []
    for row in rows:
        relocation, created = Relocation.objects.get_or_create(
            case=case, new_url_id=row["reported_url"], defaults={"media_count": row["n"]}
        )
        if not created and relocation.media_count != row["n"]:
            relocation.media_count = row["n"]
            relocation.save(update_fields=["media_count"])
        if created:
            other = ReportedUrl.objects.select_related("hotline").get(pk=row["reported_url"])
            where = other.url if other.hotline_id == url.hotline_id else other.hotline.name
            add_timeline(
                f"Same illegal material found at {where} ({row['n']} items): moved?",
                kind="takedown.moved",
                reported_url=url,
                detail={"case": case.code},
            )
        found.append(relocation)
    return found
