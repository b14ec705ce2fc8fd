"""State changes of reports and reported URLs, each with audit and timeline entries."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.lib.onerow import find_or_create, lock_name
from openhotline.lib.urlnorm import host_of, normalize_url
from openhotline.reports.models import (
    OPEN_URL_STATES,
    DeconflictionLink,
    Report,
    ReportedUrl,
    ReportLink,
    ReportSource,
    TimelineEntry,
    UrlState,
)

logger = logging.getLogger(__name__)

# The crawler's task, sent by name so that reports need not import the crawler;
# the crawler's task takes its name from here, and ``queue_crawl`` is the one sender.
CRAWL_TASK = "openhotline.crawler.tasks.crawl_reported_url"
# Priority of a URL named in an escalated report (CyberTipline escalateToHighPriority).
ESCALATED_PRIORITY = 100


def add_timeline(
    message: str,
    *,
    kind: str,
    reported_url: ReportedUrl | None = None,
    report: Report | None = None,
    actor: User | None = None,
    detail: dict[str, Any] | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        reported_url=reported_url,
        report=report,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        message=message[:500],
        detail=detail or {},
    )


def do_file_report(
    hotline: Organisation,
    *,
    source: str,
    urls: Sequence[str],
    description: str = "",
    where_found: str = "",
    comment: str = "",
    submitted_by: User | None = None,
    submitted_by_org: Organisation | None = None,
    escalated: bool = False,
    external_ref: str = "",
    language: str = "",
    incident_at: datetime | None = None,
) -> Report:
    """File one report, linking each URL to an existing reported URL or creating one.

    1. Normalise the URLs (a bad URL raises ``UrlError`` before anything is
       written) and drop repeats.
    2. Per URL, link to this hotline's reported URL when it is still open or
       was assessed within ``OPENHOTLINE_DECONFLICTION_DAYS``, so analysts
       assess it once; otherwise create one and queue its crawl.
    3. Link a new reported URL to the same URL at other hotlines of the
       installation (deconfliction), both ways.
    4. An escalated report raises the priority of its URLs.
    """
    if source not in ReportSource.values:
        raise ValueError(f"unknown report source {source!r}")
    normalized = list(dict.fromkeys(normalize_url(url) for url in urls))
    if not normalized and not description.strip():
        raise ValueError("a report needs at least one URL or a description")
    since = timezone.now() - timedelta(days=settings.OPENHOTLINE_DECONFLICTION_DAYS)
    with transaction.atomic():
        report = Report.objects.create(
            hotline=hotline,
            source=source,
            description=description,
            where_found=where_found,
            comment=comment,
            submitted_by=submitted_by,
            submitted_by_org=submitted_by_org,
            escalated=escalated,
            external_ref=external_ref,
            language=language,
            incident_at=incident_at,
        )
        add_timeline("Report received", kind="report.received", report=report, actor=submitted_by)
        created: list[int] = []
        linked_elsewhere = 0
        # Sorted: two reports naming the same URLs take their row locks in the
        # same order, so they cannot deadlock on each other's new rows.
        found: dict[str, tuple[ReportedUrl, bool]] = {}
        for url in sorted(normalized):
            found[url] = _find_or_create_url(hotline, url, since, report)
        # The report lists its URLs in the order the reporter gave them.
        for url in normalized:
            reported_url, made = found[url]
            if made:
                created.append(reported_url.pk)
                linked_elsewhere += _link_other_hotlines(reported_url, since)
            else:
                add_timeline(
                    f"Reported again (report {report.code})",
                    kind="url.reported_again",
                    reported_url=reported_url,
                    report=report,
                )
            ReportLink.objects.get_or_create(report=report, reported_url=reported_url)
            if escalated and reported_url.priority < ESCALATED_PRIORITY:
                reported_url.priority = ESCALATED_PRIORITY
                reported_url.save(update_fields=["priority", "updated_at"])
                add_timeline(
                    f"Priority raised: escalated report {report.code}",
                    kind="url.escalated",
                    reported_url=reported_url,
                    report=report,
                )
        record(
            "report.filed",
            actor=submitted_by,
            organisation=hotline,
            obj=report,
            detail={
                "source": source,
                "urls": len(normalized),
                "new_urls": len(created),
                "also_at_other_hotlines": linked_elsewhere,
            },
        )
        for reported_url_id in created:
            queue_crawl(reported_url_id)
    return report


def _find_or_create_url(
    hotline: Organisation, url: str, since: datetime, report: Report
) -> tuple[ReportedUrl, bool]:
    """This hotline's current reported URL for ``url``, or a new one.

    Two reports of a new URL at once both find nothing (a lock on a missing
    row locks nothing); the unique constraint ``one_open_url_per_hotline``
    refuses the second insert and the loser links to the winner's row. The
    lock on the address makes reports of it at two hotlines take turns, so
    the second sees the first and the deconfliction links are made.
    """
    lock_name(f"reported-url:{url}")

    def find() -> ReportedUrl | None:
        return (
            _current_urls(url, since)
            .select_for_update()
            .filter(hotline=hotline)
            .order_by("-created_at")
            .first()
        )

    def create() -> ReportedUrl:
        reported_url = ReportedUrl.objects.create(
            hotline=hotline, url=url, normalized_url=url, host=host_of(url)
        )
        add_timeline("URL reported", kind="url.created", reported_url=reported_url, report=report)
        return reported_url

    return find_or_create(find, create)


def _current_urls(normalized_url: str, since: datetime) -> Any:
    """Reported URLs of this address still open, or assessed since ``since``."""
    return ReportedUrl.objects.filter(normalized_url=normalized_url).filter(
        Q(state__in=OPEN_URL_STATES) | Q(assessed_at__gte=since)
    )


def _link_other_hotlines(reported_url: ReportedUrl, since: datetime) -> int:
    """Link a new reported URL to the same URL at other hotlines; return how many.

    Each side's timeline names only the other hotline: its report, state and
    analysts stay its own.
    """
    others = (
        _current_urls(reported_url.normalized_url, since)
        .exclude(hotline=reported_url.hotline_id)
        .select_related("hotline")
    )
    count = 0
    for other in others:
        for mine, theirs in ((reported_url, other), (other, reported_url)):
            _, made = DeconflictionLink.objects.get_or_create(reported_url=mine, other_url=theirs)
            if made:
                add_timeline(
                    f"Also reported to {theirs.hotline.name}",
                    kind="url.deconflicted",
                    reported_url=mine,
                    detail={"hotline": theirs.hotline.name},
                )
        count += 1
    return count


def queue_crawl(reported_url_id: int, *, crawl_code: str | None = None) -> None:
    """Ask the crawler to fetch a reported URL once the current transaction commits.

    The one place the crawl task is sent from (a new URL, or a re-crawl's new
    run named by ``crawl_code``). It is sent by name (``CRAWL_TASK``), so
    reports and intake need nothing from the crawler app.
    """
    transaction.on_commit(lambda: _send_crawl(reported_url_id, crawl_code))


def _send_crawl(reported_url_id: int, crawl_code: str | None) -> None:
    # The row is committed by now: a broker outage must not turn it into an
    # error page. The URL stays "new" (or its run "queued"), and the crawler's
    # ``queue_forgotten_crawls`` sweep sends it again.
    from openhotline.celery import app

    options: dict[str, Any] = {"kwargs": {"crawl_code": crawl_code}} if crawl_code else {}
    try:
        app.send_task(CRAWL_TASK, args=[reported_url_id], queue="crawl", **options)
    except Exception:
        logger.exception("could not queue the crawl of reported URL %s", reported_url_id)


def do_set_url_state(
    reported_url: ReportedUrl, state: str, *, actor: User | None = None, message: str = ""
) -> None:
    if state not in UrlState.values:
        raise ValueError(f"unknown state {state!r}")
    with transaction.atomic():
        previous = reported_url.state
        reported_url.state = state
        fields = ["state", "updated_at"]
        if state == UrlState.REMOVED and reported_url.removed_at is None:
            reported_url.removed_at = timezone.now()
            fields.append("removed_at")
        reported_url.save(update_fields=fields)
        add_timeline(
            message or f"State {previous} → {state}",
            kind="url.state",
            reported_url=reported_url,
            actor=actor,
            detail={"from": previous, "to": state},
        )
        record(
            "reported_url.state_changed",
            actor=actor,
            organisation=reported_url.hotline,
            obj=reported_url,
            detail={"from": previous, "to": state},
        )
