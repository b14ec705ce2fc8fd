"""Reading lists from police, INTERPOL or another hotline: CSV or JSON.

CSV has a header row naming at least ``value`` and ``kind`` (``url``, ``host`` or
``domain``), and optionally ``reason``. JSON is the same as a list of objects,
either at the top level or under ``"entries"``. Both are read as a stream, so a
list of a million lines needs no more memory than a few of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import ijson

from openhotline.lib.csvrecords import UnclosedQuote, csv_records
from openhotline.lib.nulchars import nul_path

KINDS = ("url", "host", "domain")
# A longer line is refused (a URL list has no business with 100,000 columns).
MAX_LINE = 16 * 1024


@dataclass(frozen=True)
class ImportRow:
    line: int
    value: str
    kind: str
    reason: str


@dataclass(frozen=True)
class ImportProblem:
    line: int
    message: str


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (no header, not JSON)."""


def read_list(handle: IO[bytes], *, name: str = "") -> Iterator[ImportRow | ImportProblem]:
    """Rows (or per-row problems) of a CSV or JSON list; the format is sniffed from the
    first byte that is not white space, whatever the file is called."""
    head = handle.read(4096)
    handle.seek(0)
    first = head.lstrip()[:1]
    if first in (b"[", b"{"):
        return _read_json(handle, top_level_list=first == b"[")
    return _read_csv(handle)


def _read_csv(handle: IO[bytes]) -> Iterator[ImportRow | ImportProblem]:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
    number = 0
    too_long: list[int] = []

    def lines() -> Iterator[str]:
        """Lines of at most MAX_LINE characters; a longer one reads as blank, noted."""
        nonlocal number
        while line := text.readline(MAX_LINE + 1):
            number += 1
            if len(line) > MAX_LINE and not line.endswith("\n"):
                if number == 1:
                    raise ImportFormatError(
                        f"line 1: the header is longer than {MAX_LINE} characters "
                        "(too many columns?)"
                    )
                while line and not line.endswith("\n"):  # skip the rest of it
                    line = text.readline(MAX_LINE + 1)
                too_long.append(number)
                line = "\n"
            yield line

    fields: list[str] | None = None
    try:
        for line, row in csv_records(lines(), lambda: number, max_record=MAX_LINE):
            for long_line in too_long:
                yield ImportProblem(long_line, f"line longer than {MAX_LINE} characters")
            too_long.clear()
            if isinstance(row, csv.Error):
                yield ImportProblem(line, f"not valid CSV: {row}")
            elif fields is None:
                fields = [f.strip().lower() for f in row]
                if "value" not in fields or "kind" not in fields:
                    raise ImportFormatError(
                        "the CSV header must name the columns value,kind[,reason]"
                    )
            elif any(cell.strip() for cell in row):
                yield _row(line, dict(zip(fields, row, strict=False)))
    except UnclosedQuote as exc:
        raise ImportFormatError(str(exc)) from None
    for long_line in too_long:
        yield ImportProblem(long_line, f"line longer than {MAX_LINE} characters")
    if fields is None:
        raise ImportFormatError("the file is empty; a header row value,kind[,reason] is expected")


def _read_json(handle: IO[bytes], *, top_level_list: bool) -> Iterator[ImportRow | ImportProblem]:
    prefix = "item" if top_level_list else "entries.item"
    try:
        for number, item in enumerate(ijson.items(handle, prefix), start=1):
            if not isinstance(item, dict):
                yield ImportProblem(number, "not an object with value and kind")
                continue
            yield _row(number, item)
    except ijson.JSONError as exc:
        raise ImportFormatError(f"not valid JSON: {exc}") from None


def _row(line: int, row: dict[str, Any]) -> ImportRow | ImportProblem:
    where = nul_path(row)
    if where is not None:
        return ImportProblem(line, f"a NUL character (U+0000) in {where[0] if where else 'it'}")
    value = str(row.get("value") or "").strip()
    kind = str(row.get("kind") or "").strip().lower()
    reason = str(row.get("reason") or "").strip()
    if not value:
        return ImportProblem(line, "empty value")
    if kind not in KINDS:
        return ImportProblem(line, f"kind must be url, host or domain, not {kind!r}")
    return ImportRow(line, value, kind, reason)
