"""What the review screen says about a reported page besides its media.

The reporters' own words (description, comment, where they found it, in
their language) and whether the page's hosting country is known, not known
yet, or was looked for and not found. Nothing here is personal data of the
reporter: their e-mail address stays encrypted in intake and is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf.locale import LANG_INFO

from openhotline.reports.models import ReportedUrl


@dataclass(frozen=True)
class ReporterNote:
    """One report of the page, as its reporter wrote it."""

    code: str
    source: str
    created_at: datetime
    escalated: bool
    description: str
    comment: str
    where_found: str
    language: str  # the language's English name, or its code when unknown

    @property
    def has_words(self) -> bool:
        return bool(self.description or self.comment or self.where_found)


def language_name(code: str) -> str:
    """ "Danish" for "da" (Django's table), the code itself for anything else."""
    info = LANG_INFO.get(code.lower()) or LANG_INFO.get(code.split("-")[0].lower())
    if info is None or "name" not in info:
        return code
    return str(info["name"])


def reporter_notes(reported_url: ReportedUrl) -> list[ReporterNote]:
    """The page's reports, oldest first, with what each reporter wrote (one query)."""
    reports = reported_url.reports.order_by("created_at", "pk").only(
        "code",
        "source",
        "created_at",
        "escalated",
        "description",
        "comment",
        "where_found",
        "language",
    )
    return [
        ReporterNote(
            code=report.code,
            source=report.get_source_display(),
            created_at=report.created_at,
            escalated=report.escalated,
            description=report.description.strip(),
            comment=report.comment.strip(),
            where_found=report.where_found.strip(),
            language=language_name(report.language) if report.language else "",
        )
        for report in reports
    ]


def hosting_status(reported_url: ReportedUrl) -> str:
    """The hosting country (ISO code), "unknown" once a trace found none, or "" (not traced).

    A hosting trace is a crawler record (``crawl_runs.hosting``); the lookup
    goes through the relation names so assessment need not import the crawler.
    """
    if reported_url.hosting_country:
        return reported_url.hosting_country.upper()
    traced = reported_url.crawl_runs.filter(hosting__isnull=False).exists()
    return "unknown" if traced else ""
