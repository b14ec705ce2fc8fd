"""Medians, 90th percentiles and within-N-days shares of durations, computed in the database.

Percentiles follow ``percentile_cont``: the value at position ``p·(n−1)``
of the sorted durations, interpolated linearly between the two neighbours.

- PostgreSQL has ``percentile_cont`` itself: one statement summarises every
  duration at once.
- SQLite has none. Each duration column has an index listing its values in
  order with the filter columns beside them (``UrlFact.Meta.indexes``), so
  the two values around a position are a bounded fetch, ``ORDER BY d LIMIT
  2 OFFSET k``, that walks the index and never sorts. Per-group medians use
  window functions over an index in (group, duration) order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from openhotline.stats.models import UrlFact
from openhotline.stats.scope import Scope

DAY = 86400
WITHIN_DAYS = (1, 3, 7)
TABLE = UrlFact._meta.db_table
# The index that lists each duration in order (see UrlFact.Meta.indexes).
ORDERED_INDEX = {
    "assessed_s": "stats_url_assessed",
    "referral_s": "stats_url_referral",
    "notice_s": "stats_url_notice",
    "removal_s": "stats_url_removal",
    "referral_system_s": "stats_url_referral_system",
    "notice_system_s": "stats_url_notice_system",
    "notice_hold_s": "stats_url_notice_hold",
}
GROUP_INDEX = "stats_url_contact_removal"
# PostgreSQL sorts each percentile's values; with its default of 4 MB a million
# durations spill to disk. The setting lasts for the one statement's transaction.
POSTGRESQL_SORT_MEMORY = "64MB"


@dataclass(frozen=True)
class Summary:
    """Durations in seconds: how many, their median and 90th percentile, and how many
    took at most 1, 3 and 7 days."""

    count: int
    median: float | None
    p90: float | None
    within: dict[int, int] = field(default_factory=dict)

    def share_within(self, days: int) -> float | None:
        return self.within.get(days, 0) / self.count if self.count else None


def percentile_cont(values: Sequence[float], p: float) -> float | None:
    """``percentile_cont(p)`` of already sorted values (the reference the SQL must match)."""
    if not values:
        return None
    position = p * (len(values) - 1)
    low = math.floor(position)
    if low + 1 >= len(values):
        return float(values[low])
    return values[low] + (position - low) * (values[low + 1] - values[low])


def _interpolate(n: int, p: float, fetch: Any) -> float | None:
    """The percentile from the one or two values around position ``p·(n−1)``."""
    if n == 0:
        return None
    position = p * (n - 1)
    low = math.floor(position)
    values = fetch(low)
    if len(values) == 1 or position == low:
        return float(values[0])
    return values[0] + (position - low) * (values[1] - values[0])


def summarize(
    scope: Scope, fields: Sequence[str], days: Sequence[int] = WITHIN_DAYS
) -> dict[str, Summary]:
    """Summaries of several duration columns of the URL facts under one scope."""
    if connection.vendor == "postgresql":
        return _summarize_postgresql(scope, fields, days)
    return _summarize_sqlite(scope, fields, days)


def _count_columns(fields: Sequence[str], days: Sequence[int]) -> str:
    columns = []
    for name in fields:
        columns.append(f"COUNT({name})")
        columns += [f"SUM(CASE WHEN {name} <= {d * DAY} THEN 1 ELSE 0 END)" for d in days]
    return ", ".join(columns)


def _summaries(
    row: Sequence[Any], fields: Sequence[str], days: Sequence[int], percentiles: dict[str, Any]
) -> dict[str, Summary]:
    result = {}
    width = 1 + len(days)
    for i, name in enumerate(fields):
        chunk = row[i * width : (i + 1) * width]
        median, p90 = percentiles[name]
        result[name] = Summary(
            count=int(chunk[0] or 0),
            median=median,
            p90=p90,
            within={d: int(v or 0) for d, v in zip(days, chunk[1:], strict=True)},
        )
    return result


def _postgresql_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one statement with room to sort in memory."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{POSTGRESQL_SORT_MEMORY}'")
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _summarize_postgresql(
    scope: Scope, fields: Sequence[str], days: Sequence[int]
) -> dict[str, Summary]:
    where, params = scope.sql()
    cont = ", ".join(
        f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {name})" for name in fields
    )
    sql = f"SELECT {_count_columns(fields, days)}, {cont} FROM {TABLE} WHERE {where}"  # noqa: S608 - column names are ours, values are parameters
    row = _postgresql_rows(sql, params)[0]
    return _summaries(
        row, fields, days, _percentile_pairs(fields, row[len(fields) * (1 + len(days)) :])
    )


def _percentile_pairs(fields: Sequence[str], arrays: Sequence[Any]) -> dict[str, Any]:
    return {
        name: (values[0], values[1]) if values else (None, None)
        for name, values in zip(fields, arrays, strict=True)
    }


def summarize_periods(
    scope: Scope, name: str, periods: Sequence[tuple[datetime, datetime]], days: Sequence[int]
) -> tuple[list[Summary], Summary]:
    """One duration summarised per period (disjoint, in order) and over all of them.

    PostgreSQL does it in one statement (``GROUPING SETS``: each period, then
    all); SQLite walks the duration's index once per period.
    """
    whole = scope.with_period(periods[0][0], periods[-1][1])
    if connection.vendor != "postgresql":
        each = [summarize(scope.with_period(a, b), [name], days)[name] for a, b in periods]
        return each, summarize(whole, [name], days)[name]
    where, params = whole.sql()
    cases = " ".join(f"WHEN reported_at < %s THEN {i}" for i in range(len(periods)))
    bounds = [connection.ops.adapt_datetimefield_value(b) for _a, b in periods]
    sql = (
        f"SELECT p, {_count_columns([name], days)}, "  # noqa: S608 - names are ours
        f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {name}) "
        f"FROM (SELECT CASE {cases} END AS p, {name} FROM {TABLE} "
        f"WHERE {name} IS NOT NULL AND {where}) s GROUP BY GROUPING SETS ((p), ())"
    )
    empty = Summary(0, None, None, {d: 0 for d in days})
    found: dict[int | None, Summary] = {}
    for row in _postgresql_rows(sql, [*bounds, *params]):
        found[row[0]] = _summaries(row[1:], [name], days, _percentile_pairs([name], row[-1:]))[name]
    return [found.get(i, empty) for i in range(len(periods))], found.get(None, empty)


def _summarize_sqlite(
    scope: Scope, fields: Sequence[str], days: Sequence[int]
) -> dict[str, Summary]:
    """Per column: one walk of its index for the counts, two bounded fetches for the
    percentiles. The index entries are narrow and in order; the table is never read."""
    where, params = scope.sql()
    result = {}
    with connection.cursor() as cursor:
        for name in fields:
            source = (
                f"{TABLE} INDEXED BY {ORDERED_INDEX[name]} WHERE {name} IS NOT NULL AND {where}"
            )
            cursor.execute(f"SELECT {_count_columns([name], days)} FROM {source}", params)  # noqa: S608 - names are ours, values parameters
            row = cursor.fetchone()

            def fetch(offset: int, name: str = name, source: str = source) -> list[int]:
                cursor.execute(
                    f"SELECT {name} FROM {source} ORDER BY {name} LIMIT 2 OFFSET %s",  # noqa: S608
                    [*params, offset],
                )
                return [r[0] for r in cursor.fetchall()]

            n = int(row[0] or 0)
            percentiles = {name: (_interpolate(n, 0.5, fetch), _interpolate(n, 0.9, fetch))}
            result.update(_summaries(row, [name], days, percentiles))
    return result


def sorted_durations(scope: Scope, name: str, *, contact_ids: Sequence[int] = ()) -> list[int]:
    """Every duration of one column under the scope, sorted (for small groups only)."""
    where, params = scope.sql()
    extra = ""
    if contact_ids:
        extra = f" AND contact_pk IN ({', '.join(['%s'] * len(contact_ids))})"
        params = [*params, *contact_ids]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {name} FROM {TABLE} WHERE {name} IS NOT NULL AND {where}{extra} "  # noqa: S608
            f"ORDER BY {name}",
            params,
        )
        return [r[0] for r in cursor.fetchall()]


def contact_medians(
    scope: Scope, *, min_count: int, exclude: Sequence[int] = ()
) -> dict[int, tuple[int, float]]:
    """Per abuse contact: cases removed after a notice, and the median time from the
    first notice to the removal; contacts with fewer than ``min_count`` are left out."""
    where, params = scope.sql()
    value = "removal_after_notice_s"
    where = f"contact_pk IS NOT NULL AND {value} IS NOT NULL AND {where}"
    if exclude:
        where += f" AND contact_pk NOT IN ({', '.join(['%s'] * len(exclude))})"
        params = [*params, *exclude]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = _postgresql_rows(
                f"SELECT contact_pk, COUNT(*), percentile_cont(0.5) WITHIN GROUP "  # noqa: S608
                f"(ORDER BY {value}) FROM {TABLE} WHERE {where} "
                "GROUP BY contact_pk HAVING COUNT(*) >= %s",
                [*params, min_count],
            )
            return {int(g): (int(n), float(m)) for g, n, m in rows}
        cursor.execute(
            "SELECT g, n, rn, v FROM ("  # noqa: S608
            f"SELECT contact_pk AS g, {value} AS v, "
            f"ROW_NUMBER() OVER (PARTITION BY contact_pk ORDER BY {value}) AS rn, "
            "COUNT(*) OVER (PARTITION BY contact_pk) AS n "
            f"FROM {TABLE} INDEXED BY {GROUP_INDEX} WHERE {where}"
            ") WHERE n >= %s AND rn IN ((n - 1) / 2 + 1, (n - 1) / 2 + 2) ORDER BY g, rn",
            [*params, min_count],
        )
        around: dict[int, tuple[int, list[int]]] = {}
        for g, n, _rn, v in cursor.fetchall():
            around.setdefault(int(g), (int(n), []))[1].append(int(v))
    result = {}
    for g, (n, values) in around.items():
        position = 0.5 * (n - 1)
        frac = position - math.floor(position)
        median = (
            values[0]
            if frac == 0 or len(values) == 1
            else values[0] + frac * (values[1] - values[0])
        )
        result[g] = (n, float(median))
    return result
