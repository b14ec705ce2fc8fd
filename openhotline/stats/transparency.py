"""The figures of the public transparency report: one year, quarter by quarter.

Only raw counts and durations are computed here (they are cached, whatever
the reader's language); ``public_tables.py`` suppresses the small ones and
labels them. Every figure is an aggregate over the facts: no URL, hoster or
item is ever named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS, Verdict
from openhotline.reports.models import ReportSource
from openhotline.stats import sources
from openhotline.stats.models import ItemFact, ReportFact, UrlFact
from openhotline.stats.percentiles import summarize_periods
from openhotline.stats.scope import Scope

HOSTING = ("own", "member", "no_member", "unknown")


@dataclass(frozen=True)
class Quarter:
    number: int
    start: datetime
    end: datetime


def quarters(year: int, now: datetime | None = None) -> list[Quarter]:
    """The quarters of ``year`` that have begun."""
    moment = now or timezone.now()
    tz = timezone.get_current_timezone()
    result = []
    for n in range(4):
        start = datetime(year, 3 * n + 1, 1, tzinfo=tz)
        end = datetime(year + (n == 3), (3 * n + 3) % 12 + 1, 1, tzinfo=tz)
        if start <= moment:
            result.append(Quarter(n + 1, start, end))
    return result


@dataclass
class YearFigures:
    """Counts per quarter (the year is their sum), and removal figures per quarter and year."""

    year: int
    quarters: list[int]
    reports: dict[str, list[int]] = field(default_factory=dict)
    urls: dict[str, list[int]] = field(default_factory=dict)
    hosting: dict[str, list[int]] = field(default_factory=dict)
    items: dict[str, list[int]] = field(default_factory=dict)
    # Per quarter, then the year: removed, removed within 1, 3 and 7 days, median seconds.
    removed: list[int] = field(default_factory=list)
    within_1_day: list[int] = field(default_factory=list)
    within_3_days: list[int] = field(default_factory=list)
    within_7_days: list[int] = field(default_factory=list)
    # Per quarter, then the year: items classified (confirmed or not), and those of them that
    # no person ever saw unblurred (the exposure figure).
    items_classified: list[int] = field(default_factory=list)
    items_never_revealed: list[int] = field(default_factory=list)
    median_removal: list[float | None] = field(default_factory=list)
    # Per hosting country: illegal URLs in the year, and the hosting kinds they count under.
    countries: list[tuple[str, int, frozenset[str]]] = field(default_factory=list)


def _per_quarter(time_field: str, periods: list[Quarter]) -> dict[str, Count]:
    """A count per quarter. It counts the time column (never empty) rather than the
    key, which the covering indexes do not hold: SQLite would read every row."""
    return {
        f"q{q.number}": Count(
            time_field, filter=Q(**{f"{time_field}__gte": q.start, f"{time_field}__lt": q.end})
        )
        for q in periods
    }


def _counts(row: dict[str, Any], periods: list[Quarter]) -> list[int]:
    return [int(row[f"q{q.number}"]) for q in periods]


def _add(into: dict[str, list[int]], key: str, values: list[int]) -> None:
    current = into.setdefault(key, [0] * len(values))
    into[key] = [a + b for a, b in zip(current, values, strict=True)]


def year_figures(year: int, hotline_ids: tuple[int, ...] | None) -> YearFigures:
    """Every figure of one year's report, for some hotlines or (None) all of them."""
    periods = quarters(year)
    figures = YearFigures(year, [q.number for q in periods])
    if not periods:
        return figures
    scope = Scope(hotline_ids, periods[0].start, periods[-1].end)
    zero = [0] * len(periods)

    figures.reports = {value: list(zero) for value in ReportSource.values}
    for row in (
        ReportFact.objects.filter(scope.q("created_at", country=False))
        .values("source")
        .annotate(**_per_quarter("created_at", periods))
        .order_by()
    ):
        _add(figures.reports, row["source"], _counts(row, periods))

    figures.urls = {"illegal": list(zero), "not_illegal": list(zero), "pending": list(zero)}
    for row in (
        UrlFact.objects.filter(scope.q())
        .values("verdict")
        .annotate(**_per_quarter("reported_at", periods))
        .order_by()
    ):
        kind = "illegal" if row["verdict"] in ILLEGAL_VERDICTS else row["verdict"] or "pending"
        _add(
            figures.urls,
            "not_illegal" if kind == Verdict.NOT_ILLEGAL else kind,
            _counts(row, periods),
        )

    members = sources.member_countries()
    figures.hosting = {key: list(zero) for key in HOSTING}
    by_country: dict[str, int] = {}
    kinds_of: dict[str, set[str]] = {}
    home = {
        pk: str(code)
        for pk, code in Organisation.objects.filter(kind=OrgKind.HOTLINE).values_list(
            "pk", "country"
        )
    }
    for row in (
        UrlFact.objects.filter(scope.q(), illegal=True)
        .values("country", "hotline_id")
        .annotate(**_per_quarter("reported_at", periods))
        .order_by()
    ):
        country, counts = row["country"], _counts(row, periods)
        if not country:
            kind = "unknown"
        elif country == home.get(row["hotline_id"]):
            kind = "own"
        else:
            kind = "member" if country in members else "no_member"
        _add(figures.hosting, kind, counts)
        if country and sum(counts):
            by_country[country] = by_country.get(country, 0) + sum(counts)
            kinds_of.setdefault(country, set()).add(kind)
    figures.countries = [
        (code, n, frozenset(kinds_of[code]))
        for code, n in sorted(by_country.items(), key=lambda item: (-item[1], item[0]))
    ]

    figures.items = {"baseline": list(zero), "national": list(zero)}
    for row in (
        ItemFact.objects.filter(
            scope.q("classified_at", country=False), in_force=True, verdict__in=ILLEGAL_VERDICTS
        )
        .values("verdict")
        .annotate(**_per_quarter("classified_at", periods))
        .order_by()
    ):
        _add(figures.items, row["verdict"], _counts(row, periods))

    each, whole = summarize_periods(
        scope, "removal_s", [(q.start, q.end) for q in periods], (1, 3, 7)
    )
    for summary in [*each, whole]:
        figures.removed.append(summary.count)
        figures.within_1_day.append(summary.within.get(1, 0))
        figures.within_3_days.append(summary.within.get(3, 0))
        figures.within_7_days.append(summary.within.get(7, 0))
        figures.median_removal.append(summary.median)

    exposure = ItemFact.objects.filter(scope.q("classified_at", country=False)).aggregate(
        **_per_quarter("classified_at", periods),
        **{
            f"hidden{q.number}": Count(
                "classified_at",
                filter=Q(classified_at__gte=q.start, classified_at__lt=q.end, revealed=False),
            )
            for q in periods
        },
    )
    classified = _counts(exposure, periods)
    hidden = [int(exposure[f"hidden{q.number}"]) for q in periods]
    figures.items_classified = [*classified, sum(classified)]
    figures.items_never_revealed = [*hidden, sum(hidden)]
    return figures


def years_with_data(hotline_ids: tuple[int, ...] | None) -> list[int]:
    """From the year of the first report to this year."""
    facts = ReportFact.objects.all()
    if hotline_ids is not None:
        facts = facts.filter(hotline_id__in=hotline_ids)
    first = facts.order_by("created_at").values_list("created_at", flat=True).first()
    this_year = timezone.now().year
    if first is None:
        return [this_year]
    return list(range(first.year, this_year + 1))
