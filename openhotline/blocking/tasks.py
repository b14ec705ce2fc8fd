"""Background work of the blocklist: export files, and the automatic proposals."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.blocking.actions.entries import (
    ASSESSMENT_SOURCE,
    BlocklistError,
    do_propose_entry,
    get_source,
)
from openhotline.blocking.exportfiles import ensure_export
from openhotline.blocking.exports import FORMATS, ExportError, ExportOptions
from openhotline.blocking.models import EntryKind, Publication, SourceKind
from openhotline.reports.models import ReportedUrl, UrlState

logger = logging.getLogger(__name__)

# A URL in these states was confirmed illegal and has not been seen removed.
STILL_ILLEGAL_STATES = (UrlState.ILLEGAL, UrlState.NOTICE_SENT)


@shared_task(acks_late=True, name="openhotline.blocking.tasks.build_exports")
def build_exports(publication_id: int) -> None:
    """Build the export files of a new version before the first provider asks.

    Safe to run twice: a file that exists is left alone.
    """
    publication = Publication.objects.select_related("hotline").filter(pk=publication_id).first()
    if publication is None:
        return
    options = ExportOptions.from_settings()
    for fmt in FORMATS:
        try:
            ensure_export(publication.hotline, publication, fmt, options)
        except ExportError as exc:
            logger.warning("blocklist export %s not built: %s", fmt, exc)


def propose_after_hours(policy: str, country: str) -> int | None:
    """Hours of grace for ``country`` by a policy such as ``"DK=48,NL=off,*=72"``.

    ``None`` means the country does not want automatic proposals.
    """
    rules: dict[str, str] = {}
    for part in policy.split(","):
        name, _, value = part.partition("=")
        if name.strip():
            rules[name.strip().upper()] = value.strip().lower()
    value = rules.get(country.upper(), rules.get("*", "off"))
    if value in ("", "off", "never"):
        return None
    try:
        return max(0, int(value))
    except ValueError:
        logger.warning("OPENHOTLINE_BLOCKLIST_PROPOSE_AFTER_HOURS: bad value %r", value)
        return None


@shared_task(acks_late=True, name="openhotline.blocking.tasks.propose_overdue_urls")
def propose_overdue_urls() -> int:
    """Propose every confirmed illegal URL still not removed after its country's grace time.

    1. For each hotline, read its country's grace time (none: skip the hotline).
    2. Take its URLs whose illegal verdict has been in force (confirmed where the
       four-eyes rule asks) longer than that, still illegal or with a notice out.
    3. Propose those never proposed before; a senior analyst then approves.
    Safe to run twice: a URL already proposed is not proposed again.
    """
    proposed = 0
    for hotline in Organisation.objects.filter(kind=OrgKind.HOTLINE):
        hours = propose_after_hours(
            settings.OPENHOTLINE_BLOCKLIST_PROPOSE_AFTER_HOURS, str(hotline.country)
        )
        if hours is None:
            continue
        cutoff = timezone.now() - timedelta(hours=hours)
        overdue = (
            ReportedUrl.objects.filter(
                hotline=hotline,
                state__in=STILL_ILLEGAL_STATES,
                assessment__in_force_at__lte=cutoff,
            )
            # Once proposed, never again by machine: a rejected proposal stays rejected.
            .exclude(blocklist_entries__isnull=False)
            .order_by("assessed_at")
        )
        source = None
        for reported_url in overdue.iterator(500):
            source = source or get_source(hotline, ASSESSMENT_SOURCE, SourceKind.ASSESSMENT)
            try:
                do_propose_entry(
                    hotline,
                    value=reported_url.normalized_url,
                    kind=EntryKind.URL,
                    source=source,
                    reason=f"confirmed illegal and still online after {hours} hours",
                    evidence=reported_url,
                    verified_at=reported_url.assessed_at,
                )
                proposed += 1
            except BlocklistError as exc:
                logger.info("not proposed for blocking: %s: %s", reported_url.code, exc)
    return proposed
