"""Small counts: hidden, and never one subtraction away from a shown total."""

from __future__ import annotations

from openhotline.stats.suppression import Cell, Hidden, suppress


def hidden_positions(cells: list[list[Cell]]) -> set[tuple[int, int]]:
    return {(r, c) for r, row in enumerate(cells) for c, cell in enumerate(row) if cell.hidden}


def assert_no_part_can_be_worked_out(cells: list[list[Cell]], *, total_row: bool) -> None:
    """No shown total has exactly one hidden part, along rows and (with a total row) columns."""
    for row in cells:
        if row[-1].hidden is None:
            assert sum(c.hidden is not None for c in row[:-1]) != 1
    if total_row:
        for c in range(len(cells[0])):
            if cells[-1][c].hidden is None:
                assert sum(row[c].hidden is not None for row in cells[:-1]) != 1


def test_counts_below_the_threshold_are_hidden_as_small() -> None:
    cells = suppress([[12, 30, 42]], 10, total_row=False)
    assert [c.hidden for c in cells[0]] == [None, None, None]
    cells = suppress([[1, 9, 10, 20]], 10, total_row=False)
    assert [c.hidden for c in cells[0]] == [Hidden.SMALL, Hidden.SMALL, None, None]


def test_a_zero_is_shown_and_never_the_part_withheld_for_a_small_one() -> None:
    # A zero singles out no one. Withholding it would not protect the 2 either:
    # the reader knows a hidden part is at least 1, so 2 + "–" = 2 gives it back.
    cells = suppress([[0, 2, 40, 42]], 10, total_row=False)
    assert [c.hidden for c in cells[0]] == [None, Hidden.SMALL, Hidden.WITHHELD, None]


def test_a_lone_small_part_of_a_shown_total_takes_the_smallest_other_part_with_it() -> None:
    # Q1..Q3 and the year: 3 alone hidden would be 60 − 25 − 32.
    cells = suppress([[3, 25, 32, 60]], 10, total_row=False)
    assert [c.hidden for c in cells[0]] == [Hidden.SMALL, Hidden.WITHHELD, None, None]
    assert_no_part_can_be_worked_out(cells, total_row=False)


def test_suppression_runs_along_rows_and_columns_until_nothing_gives_a_count_away() -> None:
    grid = [
        [50, 40, 90],  # public
        [4, 30, 34],  # partner: 4 is small
        [20, 2, 22],  # e-mail: 2 is small
        [74, 72, 146],  # all reports
    ]
    cells = suppress(grid, 10, total_row=True)
    assert (1, 0) in hidden_positions(cells) and (2, 1) in hidden_positions(cells)
    assert_no_part_can_be_worked_out(cells, total_row=True)
    shown = [cell.value for row in cells for cell in row if cell.hidden is None]
    assert all(value >= 10 for value in shown)


def test_an_all_small_table_shows_nothing_but_small_marks_and_zeros() -> None:
    cells = suppress([[1, 2, 3], [0, 1, 1], [1, 3, 4]], 5, total_row=True)
    assert all((cell.hidden is Hidden.SMALL) == (cell.value > 0) for row in cells for cell in row)


def test_forced_cells_are_withheld_and_suppression_goes_on_from_them() -> None:
    # Another table withheld Q2 of this row: Q1 or Q3 must go too, or Q2 = 60 − 20 − 25.
    cells = suppress([[20, 15, 25, 60]], 10, total_row=False, forced=[(0, 1)])
    assert [c.hidden for c in cells[0]] == [Hidden.WITHHELD, Hidden.WITHHELD, None, None]
