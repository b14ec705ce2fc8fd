"""State changes of reports and reported URLs, each with audit and timeline entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.lib.urlnorm import host_of, normalize_url
from openhotline.reports.models import (
    OPEN_URL_STATES,
    Report,
    ReportedUrl,
    ReportLink,
    ReportSource,
    TimelineEntry,
    UrlState,
)


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
) -> Report:
    """File one report, linking each URL to an open reported URL or creating one.

    URLs are normalised first (a bad URL raises ``UrlError`` before anything
    is written). A URL that is still open at this hotline is linked instead
    of duplicated, so analysts assess it once.
    """
    if source not in ReportSource.values:
        raise ValueError(f"unknown report source {source!r}")
    normalized = list(dict.fromkeys(normalize_url(url) for url in urls))
    if not normalized and not description.strip():
        raise ValueError("a report needs at least one URL or a description")
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
        )
        add_timeline("Report received", kind="report.received", report=report, actor=submitted_by)
        created = 0
        for url in normalized:
            reported_url = (
                ReportedUrl.objects.select_for_update()
                .filter(hotline=hotline, normalized_url=url, state__in=OPEN_URL_STATES)
                .first()
            )
            if reported_url is None:
                reported_url = ReportedUrl.objects.create(
                    hotline=hotline, url=url, normalized_url=url, host=host_of(url)
                )
                created += 1
                add_timeline(
                    "URL reported", kind="url.created", reported_url=reported_url, report=report
                )
            else:
                add_timeline(
                    f"Reported again (report {report.code})",
                    kind="url.reported_again",
                    reported_url=reported_url,
                    report=report,
                )
            ReportLink.objects.get_or_create(report=report, reported_url=reported_url)
        record(
            "report.filed",
            actor=submitted_by,
            organisation=hotline,
            obj=report,
            detail={"source": source, "urls": len(normalized), "new_urls": created},
        )
    return report


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
