"""Reading lists from police, INTERPOL or another hotline: CSV or JSON.

CSV has a header row naming at least ``value`` and ``kind`` (``url`` or
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

KINDS = ("url", "domain")


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
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "value" not in fields or "kind" not in fields:
        raise ImportFormatError("the CSV header must name the columns value,kind[,reason]")
    reader.fieldnames = fields
    for row in reader:
        line = reader.line_num
        yield _row(line, row)


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
    value = str(row.get("value") or "").strip()
    kind = str(row.get("kind") or "").strip().lower()
    reason = str(row.get("reason") or "").strip()
    if not value:
        return ImportProblem(line, "empty value")
    if kind not in KINDS:
        return ImportProblem(line, f"kind must be url or domain, not {kind!r}")
    return ImportRow(line, value, kind, reason)
