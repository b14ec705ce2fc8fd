"""What analysts see about the reports behind a URL: how many, from where, and who else.

A reported URL collects reports from several sources (deconfliction within
a hotline) and may be linked to the same URL at other hotlines of the
installation; of those, only the hotline's name is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from openhotline.reports.models import DeconflictionLink, Report, ReportedUrl, ReportSource


@dataclass(frozen=True)
class UrlSources:
    total: int
    by_source: list[tuple[str, int]]
    other_hotlines: list[str]


def url_sources(reported_url: ReportedUrl) -> UrlSources:
    """Count the reports of a URL per source, and name the other hotlines that have it."""
    rows = (
        Report.objects.filter(urls=reported_url)
        .values("source")
        .annotate(n=Count("id"))
        .order_by("-n", "source")
    )
    labels = dict(ReportSource.choices)
    by_source = [(str(labels.get(row["source"], row["source"])), row["n"]) for row in rows]
    others = (
        DeconflictionLink.objects.filter(reported_url=reported_url)
        .values_list("other_url__hotline__name", flat=True)
        .distinct()
        .order_by("other_url__hotline__name")
    )
    return UrlSources(
        total=sum(n for _, n in by_source), by_source=by_source, other_hotlines=list(others)
    )
