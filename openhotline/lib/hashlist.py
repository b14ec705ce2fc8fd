"""Hash sets as CSV files and plain hash lists.

Partners send hash sets in whatever their tools export: spreadsheets with a header
row, `md5sum` output, one hash a line. Imports must say exactly which lines were
refused and why, and never stop at the first bad line, so readers yield an entry
or a `LineRejection` per line.
"""

from __future__ import annotations

import csv
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, TextIO

from openhotline.lib.csvrecords import UnclosedQuote, csv_records

HashKind = Literal["md5", "sha1", "sha256", "pdq"]
Hash64Kind = Literal["sha256", "pdq"]
HASH_KINDS: tuple[HashKind, ...] = ("md5", "sha1", "sha256", "pdq")
HASH_LENGTHS: dict[HashKind, int] = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
DEFAULT_MAX_LINE = 4096
_HEX = frozenset(string.hexdigits)
_CSV_COLUMNS = {"md5", "sha1", "sha256", "pdq", "hash", "category", "pdq_quality", "comment"}
_ALIASES = {"sha-1": "sha1", "sha-256": "sha256", "quality": "pdq_quality", "comments": "comment"}


class HashListError(ValueError):
    """The file as a whole cannot be read; the message names the line."""


@dataclass(frozen=True, kw_only=True)
class HashEntry:
    line: int = 0
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    category: int | None = None
    pdq_quality: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class LineRejection:
    line: int
    reason: str


def normalize_hash(kind: HashKind, value: str) -> str:
    """Lower-case hex of the right length for `kind`, or ValueError saying what is wrong."""
    text = value.strip().lower()
    if len(text) != HASH_LENGTHS[kind]:
        raise ValueError(f"{kind} must be {HASH_LENGTHS[kind]} hex digits, not {len(text)}")
    if not _HEX.issuperset(text):
        raise ValueError(f"{kind} must be hex digits only")
    return text


def detect_kind(value: str, hash64_as: Hash64Kind | None) -> HashKind:
    """Tell the hash kind by length: 32 md5, 40 sha1, 64 whatever the caller says.

    SHA-256 and PDQ are both 64 hex digits, so only the caller can tell them apart.
    """
    length = len(value.strip())
    if length == 32:
        return "md5"
    if length == 40:
        return "sha1"
    if length == 64:
        if hash64_as is None:
            raise HashListError("64-digit hashes may be SHA-256 or PDQ: say which (hash64_as)")
        return hash64_as
    raise ValueError(f"a hash of {length} characters is not md5 (32), sha1 (40) or 64 digits")


class _BoundedLines:
    """Lines of a text file, refusing over-long ones without reading them into memory."""

    def __init__(self, file: TextIO, max_line: int) -> None:
        self._file = file
        self._max = max_line
        self.number = 0
        self.too_long: list[int] = []

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self._file.readline(self._max + 1)
            if not line:
                return
            self.number += 1
            if self.number == 1:
                line = line.removeprefix("\ufeff")
            if len(line) > self._max and not line.endswith("\n"):
                while line and not line.endswith("\n"):  # drop the rest of this line
                    line = self._file.readline(self._max + 1)
                self.too_long.append(self.number)
                continue
            yield line


def read_hash_csv(
    file: TextIO, *, hash64_as: Hash64Kind | None = None, max_line: int = DEFAULT_MAX_LINE
) -> Iterator[HashEntry | LineRejection]:
    """Read a CSV hash set with a header row.

    Columns (any case, in any order; others are ignored): md5, sha1, sha256, pdq,
    hash (kind told by length), category, pdq_quality, comment. Comma, semicolon or
    tab separated, as the header shows.
    """
    lines = _BoundedLines(file, max_line)
    line_iter = iter(lines)
    header_line = next(line_iter, None)
    if lines.too_long[:1] == [1]:
        raise HashListError(
            f"Line 1: the header row is longer than {max_line} characters (too many columns?)"
        )
    if header_line is None:
        raise HashListError("The file is empty; a header row is expected")
    delimiter = _delimiter(header_line)
    names = next(csv.reader([header_line], delimiter=delimiter))
    header = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in names]
    if not set(header) & {"md5", "sha1", "sha256", "pdq", "hash"}:
        raise HashListError(
            "Line 1: the header names no hash column (md5, sha1, sha256, pdq or hash)"
        )
    records = csv_records(line_iter, lambda: lines.number, delimiter=delimiter, max_record=max_line)
    try:
        for number, row in records:
            yield from (LineRejection(n, "line too long") for n in _drain(lines.too_long))
            if isinstance(row, csv.Error):
                yield LineRejection(number, f"not valid CSV: {row}")
            elif any(cell.strip() for cell in row):
                yield _csv_entry(number, header, row, hash64_as)
    except UnclosedQuote as exc:
        raise HashListError(str(exc)) from None
    yield from (LineRejection(n, "line too long") for n in _drain(lines.too_long))


def _csv_entry(
    line: int, header: list[str], row: list[str], hash64_as: Hash64Kind | None
) -> HashEntry | LineRejection:
    if len(row) > len(header):
        return LineRejection(line, f"{len(row)} fields but the header has {len(header)}")
    values: dict[str, str] = {}
    for column, cell in zip(header, row, strict=False):
        if column in _CSV_COLUMNS and cell.strip():
            values[column] = cell.strip()
    try:
        hashes: dict[str, str] = {}
        for kind in HASH_KINDS:
            if kind in values:
                hashes[kind] = normalize_hash(kind, values[kind])
        if "hash" in values:
            kind = detect_kind(values["hash"], hash64_as)
            hashes[kind] = normalize_hash(kind, values["hash"])
        if not hashes:
            return LineRejection(line, "no hash on this line")
        category = _optional_int(values.get("category"), "category")
        quality = _optional_int(values.get("pdq_quality"), "pdq_quality")
    except HashListError as exc:
        raise HashListError(f"Line {line}: {exc}") from None
    except ValueError as exc:
        return LineRejection(line, str(exc))
    return _entry(line, hashes, category, quality, values.get("comment"))


def read_hash_list(
    file: TextIO,
    *,
    kind: HashKind | None = None,
    hash64_as: Hash64Kind | None = None,
    max_line: int = DEFAULT_MAX_LINE,
) -> Iterator[HashEntry | LineRejection]:
    """Read one hash a line; `md5sum`-style "hash  file name" lines work too.

    Blank lines and lines starting with "#" are skipped. Without `kind`, each hash's
    kind is told by its length; a 64-digit hash then needs `hash64_as`, or reading
    stops with `HashListError` at the first one.
    """
    lines = _BoundedLines(file, max_line)
    for text in lines:
        yield from (LineRejection(n, "line too long") for n in _drain(lines.too_long))
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        token = stripped.split(None, 1)[0].removeprefix("\\")
        try:
            line_kind = kind or detect_kind(token, hash64_as)
            value = normalize_hash(line_kind, token)
        except HashListError as exc:
            raise HashListError(f"Line {lines.number}: {exc}") from None
        except ValueError as exc:
            yield LineRejection(lines.number, str(exc))
            continue
        yield _entry(lines.number, {line_kind: value})
    yield from (LineRejection(n, "line too long") for n in _drain(lines.too_long))


def write_hash_csv(
    file: TextIO,
    entries: Iterable[HashEntry],
    columns: tuple[str, ...] = ("md5", "sha1", "sha256", "pdq", "pdq_quality", "category"),
) -> int:
    """Write entries as CSV with a header row; return how many rows were written."""
    unknown = set(columns) - _CSV_COLUMNS
    if unknown:
        raise ValueError(f"Unknown columns: {sorted(unknown)}")
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for entry in entries:
        row = []
        for column in columns:
            value = getattr(entry, column)
            if column in HASH_LENGTHS and value is not None:
                value = normalize_hash(column, value)  # type: ignore[arg-type]
            row.append("" if value is None else value)
        writer.writerow(row)
        count += 1
    return count


def write_hash_list(file: TextIO, hashes: Iterable[str], kind: HashKind) -> int:
    """Write one lower-case hash a line; return how many were written."""
    count = 0
    for value in hashes:
        file.write(normalize_hash(kind, value) + "\n")
        count += 1
    return count


def _entry(
    line: int,
    hashes: dict[str, str],
    category: int | None = None,
    pdq_quality: int | None = None,
    comment: str | None = None,
) -> HashEntry:
    return HashEntry(
        line=line,
        md5=hashes.get("md5"),
        sha1=hashes.get("sha1"),
        sha256=hashes.get("sha256"),
        pdq=hashes.get("pdq"),
        category=category,
        pdq_quality=pdq_quality,
        comment=comment,
    )


def _delimiter(header_line: str) -> str:
    if "\t" in header_line:
        return "\t"
    if ";" in header_line and "," not in header_line:
        return ";"
    return ","


def _optional_int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value[:40]!r}") from None


def _drain(items: list[int]) -> list[int]:
    drained = items[:]
    items.clear()
    return drained
