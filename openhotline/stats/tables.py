"""The tables a dashboard shows, and the same tables as CSV.

A table's cells hold raw values (counts, fractions, seconds); the page
formats them for people and the CSV keeps them for spreadsheets, with the
unit in the column header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

# Column kinds: how a value is shown, and which unit its CSV header names.
TEXT, COUNT, SHARE, DURATION, TIME = "text", "count", "share", "duration", "time"
UNITS = {SHARE: gettext_lazy("fraction"), DURATION: gettext_lazy("seconds"), TIME: "UTC"}
# Spreadsheets run a cell that starts with one of these as a formula; hoster names
# come from RDAP records that anyone can write.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise  # translated where shown (gettext_lazy for module constants)
    kind: str = TEXT


@dataclass
class Table:
    slug: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    note: str = ""
    chart: SafeString | None = None
    # Rows shown on the page; the CSV always has them all.
    shown: int | None = None

    def visible_rows(self) -> list[dict[str, Any]]:
        return self.rows if self.shown is None else self.rows[: self.shown]

    def cells(self) -> list[list[tuple[Any, str]]]:
        """Rows as (value, kind) pairs in column order, for the template."""
        return [[(row.get(c.key), c.kind) for c in self.columns] for row in self.visible_rows()]


def csv_value(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == SHARE:
        return f"{float(value):.4f}"
    if kind == DURATION:
        return f"{float(value):.0f}"
    if kind == TIME:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    if kind == TEXT and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _header(column: Column) -> str:
    unit = UNITS.get(column.kind)
    return f"{column.label} ({unit})" if unit else str(column.label)


def to_csv(table: Table) -> str:
    """The table for spreadsheets, headers in the reader's language (a human export)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_header(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_value(row.get(c.key), c.kind) for c in table.columns])
    return out.getvalue()


Builder = Callable[..., list[Table]]


@dataclass(frozen=True)
class Dashboard:
    """A page of tables; each builder makes some of them from shared queries."""

    slug: str
    title: str | Promise  # translated where shown (gettext_lazy)
    builders: tuple[tuple[tuple[str, ...], Builder], ...]
    # Filters that do not apply here, said on the page.
    notes: tuple[str | Promise, ...] = field(default_factory=tuple)

    def tables(self, scope: Any) -> list[Table]:
        return [table for _, build in self.builders for table in build(scope)]

    def table(self, scope: Any, slug: str) -> Table | None:
        for slugs, build in self.builders:
            if slug in slugs:
                return next((t for t in build(scope) if t.slug == slug), None)
        return None
