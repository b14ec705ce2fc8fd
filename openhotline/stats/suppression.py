"""Small-count suppression for the public report.

A count from 1 to N−1 is shown as "< N" (a zero is shown: it singles out
no one, and hiding it would only withhold its neighbours). That alone is not enough
where a table also shows totals: with a total and all the other parts, the
hidden part is one subtraction away. So a second pass withholds one more
part wherever exactly one part of a shown total is hidden (the classic
"secondary suppression" of statistical offices), along rows (quarters add up
to the year) and along columns (categories add up to the total row).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Hidden(Enum):
    SMALL = "small"  # below the threshold: "< N"
    WITHHELD = "withheld"  # would let a small count be worked out: "–"


@dataclass(frozen=True)
class Cell:
    value: int
    hidden: Hidden | None = None


def _hide_one_more(values: list[int], hidden: list[Hidden | None]) -> int | None:
    """The part to withhold when exactly one part is hidden: the smallest one shown
    that is not zero (a withheld zero adds no doubt: the hidden part is at least 1)."""
    if sum(h is not None for h in hidden) != 1:
        return None
    shown = [i for i, h in enumerate(hidden) if h is None]
    pool = [i for i in shown if values[i] > 0] or shown
    return min(pool, key=lambda i: (values[i], i)) if pool else None


def suppress(
    grid: list[list[int]],
    threshold: int,
    *,
    total_row: bool,
    forced: Iterable[tuple[int, int]] = (),
) -> list[list[Cell]]:
    """Hide the small cells of an additive table and whatever would give them away.

    ``grid[r][c]``: the last column is the row's total (the year, summing the
    quarters); with ``total_row`` the last row is the column's total (summing
    the categories above it). ``forced`` cells (row, column) are withheld from
    the start: cells another table withheld, where both show the same figure.

    1. Hide every cell from 1 to below the threshold, and withhold the forced ones.
    2. Per row whose total is shown: if exactly one of its parts is hidden,
       withhold the smallest part still shown (or, with none left, the total).
    3. The same per column, when there is a total row.
    4. Repeat 2 and 3 until nothing changes.
    """
    hidden: list[list[Hidden | None]] = [
        [Hidden.SMALL if 0 < v < threshold else None for v in row] for row in grid
    ]
    for r, c in forced:
        hidden[r][c] = hidden[r][c] or Hidden.WITHHELD
    rows, cols = len(grid), len(grid[0]) if grid else 0
    changed = True
    while changed:
        changed = False
        for r in range(rows):
            if hidden[r][cols - 1] is not None:
                continue
            pick = _hide_one_more(grid[r][: cols - 1], hidden[r][: cols - 1])
            if pick is not None:
                hidden[r][pick] = Hidden.WITHHELD
                changed = True
            elif sum(h is not None for h in hidden[r][: cols - 1]) == 1:
                hidden[r][cols - 1] = Hidden.WITHHELD
                changed = True
        if not total_row:
            continue
        for c in range(cols):
            if hidden[rows - 1][c] is not None:
                continue
            column = [grid[r][c] for r in range(rows - 1)]
            marks = [hidden[r][c] for r in range(rows - 1)]
            pick = _hide_one_more(column, marks)
            if pick is not None:
                hidden[pick][c] = Hidden.WITHHELD
                changed = True
            elif sum(h is not None for h in marks) == 1:
                hidden[rows - 1][c] = Hidden.WITHHELD
                changed = True
    return [
        [Cell(v, h) for v, h in zip(row, marks, strict=True)]
        for row, marks in zip(grid, hidden, strict=True)
    ]
