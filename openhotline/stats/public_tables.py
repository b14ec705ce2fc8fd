"""The public report's tables: labelled, in the reader's language, small counts suppressed."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from openhotline.stats.suppression import Cell, Hidden, suppress
from openhotline.stats.transparency import YearFigures

SOURCES = (
    ("public", gettext_lazy("Public report form")),
    ("partner", gettext_lazy("Partner organisations")),
    ("email", gettext_lazy("By e-mail")),
    ("hotline", gettext_lazy("Other hotlines")),
    ("staff", gettext_lazy("Entered by staff")),
)
URL_KINDS = (
    ("illegal", gettext_lazy("Assessed illegal")),
    ("not_illegal", gettext_lazy("Assessed not illegal")),
    ("pending", gettext_lazy("Not assessed yet")),
)
HOSTING_KINDS = (
    ("own", gettext_lazy("In the hotline's own country")),
    ("member", gettext_lazy("In another country with a member hotline")),
    ("no_member", gettext_lazy("In a country without a member hotline")),
    ("unknown", gettext_lazy("Country not known")),
)
ITEM_KINDS = (
    ("baseline", gettext_lazy("Baseline (illegal in every country)")),
    ("national", gettext_lazy("Illegal under national law")),
)


@dataclass
class PublicTable:
    title: str | Promise
    columns: list[str]
    rows: list[tuple[str | Promise, list[str]]] = field(default_factory=list)
    note: str | Promise = ""


def show(cell: Cell, threshold: int) -> str:
    if cell.hidden is Hidden.SMALL:
        return f"< {threshold}"
    if cell.hidden is Hidden.WITHHELD:
        return "–"
    return number_format(cell.value, force_grouping=True)


def _columns(figures: YearFigures) -> list[str]:
    return [_("Q%(number)s") % {"number": n} for n in figures.quarters] + [_("Year")]


Parts = tuple[tuple[str, str | Promise], ...]


def _grid(parts: Parts, values: dict[str, list[int]]) -> list[list[int]]:
    """Categories by quarter with the year's sum, then the total row."""
    grid = [[*values[key], sum(values[key])] for key, _label in parts]
    grid.append([sum(column) for column in zip(*grid, strict=True)])
    return grid


def _table(
    title: str | Promise,
    figures: YearFigures,
    parts: Parts,
    cells: list[list[Cell]],
    total_label: str | Promise,
    threshold: int,
) -> PublicTable:
    labels = [label for _key, label in parts] + [total_label]
    return PublicTable(
        title,
        _columns(figures),
        [
            (label, [show(c, threshold) for c in row])
            for label, row in zip(labels, cells, strict=True)
        ],
    )


def _hidden_columns(row: list[Cell]) -> set[int]:
    return {c for c, cell in enumerate(row) if cell.hidden is not None}


def _linked(
    urls: list[list[int]], illegal_row: int | None, hosting: list[list[int]], threshold: int
) -> tuple[list[list[Cell]], list[list[Cell]]]:
    """Suppress the URL table and the hosting table together.

    The hosting table's total row repeats the URL table's "illegal" row, so a
    cell withheld in one must be withheld in the other, or the second table
    would give back what the first hid. Withheld cells only ever grow, so the
    exchange ends.
    """
    total_row = len(hosting) - 1
    forced_urls: set[int] = set()
    forced_hosting: set[int] = set()
    while True:
        url_cells = suppress(
            urls,
            threshold,
            total_row=True,
            forced={(illegal_row, c) for c in forced_urls} if illegal_row is not None else (),
        )
        shown_illegal = url_cells[illegal_row] if illegal_row is not None else []
        forced_hosting |= _hidden_columns(shown_illegal)
        hosting_cells = suppress(
            hosting, threshold, total_row=True, forced={(total_row, c) for c in forced_hosting}
        )
        more = _hidden_columns(hosting_cells[total_row]) - forced_urls
        if illegal_row is None or not more - _hidden_columns(shown_illegal):
            return url_cells, hosting_cells
        forced_urls |= more


def _share(part: int, whole: int, threshold: int) -> str:
    """A percentage, unless it or its complement rests on a small count."""
    if not whole or 0 < part < threshold or 0 < whole - part < threshold:
        return "–"
    return number_format(100 * part / whole, decimal_pos=1) + " %"


def tables(figures: YearFigures, threshold: int) -> list[PublicTable]:
    """The report's tables, every small count hidden.

    Named groups only: a source, a kind of verdict, a hosting kind, a country
    or a quarter never shows a count below the threshold, nor one that the
    shown figures give back by adding and subtracting.
    """
    if not figures.quarters:
        return []
    reports = _table(
        gettext_lazy("Reports received"),
        figures,
        SOURCES,
        suppress(_grid(SOURCES, figures.reports), threshold, total_row=True),
        gettext_lazy("All reports"),
        threshold,
    )
    url_parts, hosting_parts = URL_KINDS, HOSTING_KINDS
    row_of = {key: r for r, (key, _label) in enumerate(url_parts)}
    url_cells, hosting_cells = _linked(
        _grid(url_parts, figures.urls),
        row_of.get("illegal"),
        _grid(hosting_parts, figures.hosting),
        threshold,
    )
    urls = _table(
        gettext_lazy("Reported URLs"),
        figures,
        url_parts,
        url_cells,
        gettext_lazy("All reported URLs"),
        threshold,
    )
    urls.rows.append(
        (
            gettext_lazy("Share of assessed URLs that were illegal"),
            _illegal_shares(figures, url_cells, row_of, threshold),
        )
    )
    hosting = _table(
        gettext_lazy("Where the illegal URLs were hosted"),
        figures,
        hosting_parts,
        hosting_cells,
        gettext_lazy("All illegal URLs"),
        threshold,
    )
    items = _table(
        gettext_lazy("Illegal images and videos"),
        figures,
        ITEM_KINDS,
        suppress(_grid(ITEM_KINDS, figures.items), threshold, total_row=True),
        gettext_lazy("All illegal images and videos"),
        threshold,
    )
    year = len(figures.quarters)
    hidden_kinds = {
        key
        for (key, _label), row in zip(hosting_parts, hosting_cells, strict=False)
        if row[year].hidden is not None
    }
    return [
        reports,
        urls,
        hosting,
        _countries(figures, hidden_kinds, threshold),
        _removal(figures, threshold),
        _exposure(figures, threshold),
        items,
    ]


def _illegal_shares(
    figures: YearFigures, cells: list[list[Cell]], row_of: dict[str, int], threshold: int
) -> list[str]:
    """The share illegal per column, where both its counts are shown."""
    illegal = figures.urls["illegal"] + [sum(figures.urls["illegal"])]
    not_illegal = figures.urls["not_illegal"] + [sum(figures.urls["not_illegal"])]
    shares = []
    for c, (i, n) in enumerate(zip(illegal, not_illegal, strict=True)):
        hidden = any(cells[row_of[k]][c].hidden for k in ("illegal", "not_illegal") if k in row_of)
        shares.append("–" if hidden else _share(i, i + n, threshold))
    return shares


def _countries(figures: YearFigures, hidden_kinds: set[str], threshold: int) -> PublicTable:
    """Countries with at least ``threshold`` illegal URLs in the year.

    A country that counts under a hosting kind whose year figure is hidden is
    left out too: with all its countries named, the hidden figure would be
    their sum.
    """
    names = dict(countries)
    table = PublicTable(
        gettext_lazy("Hosting countries of the illegal URLs, %(year)s") % {"year": figures.year},
        [_("Illegal URLs")],
        [
            (str(names.get(code, code)), [number_format(n, force_grouping=True)])
            for code, n, kinds in figures.countries
            if n >= threshold and not kinds & hidden_kinds
        ],
    )
    table.note = gettext_lazy("Countries with fewer illegal URLs are not listed.")
    return table


def _removal(figures: YearFigures, threshold: int) -> PublicTable:
    table = PublicTable(gettext_lazy("Removal"), _columns(figures))
    removed = suppress([figures.removed], threshold, total_row=False)[0]
    table.rows.append((gettext_lazy("Illegal URLs removed"), [show(c, threshold) for c in removed]))
    table.rows.append(
        (
            gettext_lazy("Median days from the report to removal"),
            [
                number_format(m / 86400, decimal_pos=1)
                if m is not None and c.hidden is None
                else "–"
                for m, c in zip(figures.median_removal, removed, strict=True)
            ],
        )
    )
    for label, within in (
        (gettext_lazy("Removed within 1 day of the report"), figures.within_1_day),
        (gettext_lazy("Removed within 3 days of the report"), figures.within_3_days),
        (gettext_lazy("Removed within 7 days of the report"), figures.within_7_days),
    ):
        table.rows.append(
            (
                label,
                [
                    _share(w, n, threshold) if c.hidden is None else "–"
                    for w, n, c in zip(within, figures.removed, removed, strict=True)
                ],
            )
        )
    table.note = gettext_lazy(
        "For the URLs first reported in each quarter that have been removed so far; times run "
        "from the first report to the re-check that found the material gone."
    )
    return table


def _exposure(figures: YearFigures, threshold: int) -> PublicTable:
    """How much of the material a person had to look at: the share of classified images
    and videos never shown unblurred to anyone, small counts suppressed as elsewhere."""
    table = PublicTable(gettext_lazy("Exposure of staff to the material"), _columns(figures))
    classified = suppress([figures.items_classified], threshold, total_row=False)[0]
    table.rows.append(
        (
            gettext_lazy("Images and videos classified"),
            [show(c, threshold) for c in classified],
        )
    )
    table.rows.append(
        (
            gettext_lazy("Never shown unblurred to any person"),
            [
                _share(h, n, threshold) if c.hidden is None else "–"
                for h, n, c in zip(
                    figures.items_never_revealed, figures.items_classified, classified, strict=True
                )
            ],
        )
    )
    table.note = gettext_lazy(
        "Items classified in each quarter (many by a match with a trusted hash list, without "
        "anyone looking); an item counts as shown once anyone revealed it past the blur."
    )
    return table
