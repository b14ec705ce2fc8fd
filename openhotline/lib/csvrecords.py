"""CSV records of an imported file, with every problem told by its line number.

Python's ``csv`` module lets a quoted field run across lines. An unclosed quote
then swallows every following line into one field until the field size limit
(131,072 characters) or the end of the file: 1,724 hash records reported as
one refused line. Here a record may span lines (a comment with a line break),
but not past ``max_record`` characters or the end of the file: that is an
``UnclosedQuote`` naming the line where the quote opened, and the caller
refuses the whole file, since every record after it would be misread.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator


class UnclosedQuote(ValueError):
    def __init__(self, line: int) -> None:
        super().__init__(f"Line {line}: a quote opened on this line is never closed")
        self.line = line


def csv_records(
    lines: Iterable[str],
    line_number: Callable[[], int],
    *,
    delimiter: str = ",",
    max_record: int,
) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """``(first line, fields)`` per record, or ``(line, error)`` for a malformed one.

    ``line_number()`` gives the number of the line ``lines`` yielded last.
    """
    first = used = 0

    def feed() -> Iterator[str]:
        nonlocal first, used
        for line in lines:
            if not first:
                first = line_number()
            elif used + len(line) > max_record:
                raise UnclosedQuote(first)
            used += len(line)
            yield line

    reader = csv.reader(feed(), delimiter=delimiter, strict=True)
    while True:
        first = used = 0
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise UnclosedQuote(first) from None
            yield first, exc
            continue
        yield first, row
