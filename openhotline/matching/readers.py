"""Hash-set files as a stream of entries or refused lines, whatever their format.

Formats: ``vics`` (Project VIC JSON 1.x/2.0, via ``lib.vics``), ``csv`` and
``list`` (via ``lib.hashlist``), and ``vpdq`` (one video's frame hashes, as the
vPDQ tools write them: ``frame_number,quality,pdq_hex,timestamp`` a line).
Each reader yields an ``EntryFields`` or a ``Refused`` per record and keeps
going; a file that cannot be read any further raises ``ReadError``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from openhotline.lib.hashlist import (
    HashEntry as ListEntry,
)
from openhotline.lib.hashlist import (
    HashListError,
    LineRejection,
    normalize_hash,
    read_hash_csv,
    read_hash_list,
)
from openhotline.lib.nulchars import nul_path
from openhotline.lib.vics import VicsMedia, VicsReader, VicsRejection
from openhotline.lib.vics_fields import VicsError

FORMATS = ("vics", "csv", "list", "vpdq")
MAX_VPDQ_FRAMES = 4 * 3600 * 30
_VICS_META = (
    "media_id",
    "media_size",
    "mime_type",
    "relative_file_path",
    "is_precategorized",
    "is_distributed",
    "is_suspected",
    "victim_identified",
    "offender_identified",
    "series",
    "tags",
    "comments",
    "case_id",
    "photodna",
)


class ReadError(ValueError):
    """The file cannot be read any further; the message says where."""


@dataclass(frozen=True)
class EntryFields:
    line: int
    md5: str = ""
    sha1: str = ""
    sha256: str = ""
    pdq: str = ""
    pdq_quality: int | None = None
    vpdq: list[list[Any]] = field(default_factory=list)
    category: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    line: int
    reason: str


@dataclass
class ReadOptions:
    # CSV and lists: what a 64-digit hash is ("sha256" or "pdq"); lists: force one kind.
    hash64_as: str | None = None
    kind: str | None = None
    # Filled in by the VICS reader: the profile the file declares (2.0 only).
    profile: str | None = None


def detect_format(name: str, head: bytes) -> str:
    """Guess the format from the file name, else from its first bytes."""
    lower = name.lower()
    if lower.endswith(".json"):
        return "vics"
    if lower.endswith((".csv", ".tsv")):
        return "csv"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return "vics"
    first = text.split(b"\n", 1)[0].lower()
    if any(name in first for name in (b"md5", b"sha1", b"sha256", b"pdq", b"hash")):
        return "csv"
    if first.count(b",") == 3 and len(first.split(b",")[2].strip()) == 64:
        return "vpdq"
    return "list"


def read_entries(
    file: IO[bytes], format: str, options: ReadOptions
) -> Iterator[EntryFields | Refused]:
    """Each record of the file, refused when a field holds a NUL character (which
    PostgreSQL cannot store: it would abort the whole import)."""
    for item in _read(file, format, options):
        if isinstance(item, EntryFields):
            where = nul_path(item.metadata)
            if where is not None:
                name = where[0] if where else "a field"
                yield Refused(item.line, f"a NUL character (U+0000) in {name}")
                continue
        yield item


def _read(file: IO[bytes], format: str, options: ReadOptions) -> Iterator[EntryFields | Refused]:
    if format == "vics":
        yield from _vics(file, options)
        return
    text = io.TextIOWrapper(file, encoding="utf-8", errors="replace", newline="")
    try:
        if format == "csv":
            yield from _from_list(read_hash_csv(text, hash64_as=options.hash64_as))  # type: ignore[arg-type]
        elif format == "list":
            yield from _from_list(
                read_hash_list(text, kind=options.kind, hash64_as=options.hash64_as)  # type: ignore[arg-type]
            )
        elif format == "vpdq":
            yield from _vpdq(text)
        else:
            raise ReadError(f"unknown format {format!r} (one of {', '.join(FORMATS)})")
    except HashListError as exc:
        raise ReadError(str(exc)) from None
    finally:
        text.detach()


def _vics(file: IO[bytes], options: ReadOptions) -> Iterator[EntryFields | Refused]:
    reader = VicsReader(file)
    try:
        for item in reader:
            if options.profile is None and reader.header.profile:
                options.profile = reader.header.profile
            if isinstance(item, VicsRejection):
                yield Refused(item.number, item.reason)
            else:
                yield _from_vics(item)
    except VicsError as exc:
        raise ReadError(str(exc)) from None


def _from_vics(media: VicsMedia) -> EntryFields | Refused:
    if not (media.md5 or media.sha1 or media.sha256 or media.pdq):
        return Refused(media.number, "only a PhotoDNA hash, which openhotline cannot match")
    metadata: dict[str, Any] = {
        name: getattr(media, name) for name in _VICS_META if getattr(media, name) is not None
    }
    if media.file_paths:
        metadata["file_paths"] = list(media.file_paths)
    if media.date_updated is not None:
        metadata["date_updated"] = media.date_updated.isoformat()
    return EntryFields(
        line=media.number,
        md5=media.md5 or "",
        sha1=media.sha1 or "",
        sha256=media.sha256 or "",
        pdq=media.pdq or "",
        category=media.category,
        metadata=metadata,
    )


def _from_list(items: Iterator[ListEntry | LineRejection]) -> Iterator[EntryFields | Refused]:
    for item in items:
        if isinstance(item, LineRejection):
            yield Refused(item.line, item.reason)
            continue
        if item.pdq_quality is not None and not 0 <= item.pdq_quality <= 100:
            yield Refused(item.line, f"pdq_quality must be 0 to 100, not {item.pdq_quality}")
            continue
        yield EntryFields(
            line=item.line,
            md5=item.md5 or "",
            sha1=item.sha1 or "",
            sha256=item.sha256 or "",
            pdq=item.pdq or "",
            pdq_quality=item.pdq_quality,
            category=item.category,
            metadata={"comment": item.comment} if item.comment else {},
        )


def _vpdq(text: IO[str]) -> Iterator[EntryFields | Refused]:
    """One video: its frames become one entry (refused lines are reported, not fatal)."""
    frames: list[list[Any]] = []
    number = 0
    for number, line in enumerate(text, start=1):
        if len(line) > 512:
            yield Refused(number, "line too long")
            continue
        parts = [p.strip() for p in line.split(",")]
        if parts == [""] or parts[0].startswith("#"):
            continue
        try:
            if len(parts) < 3:
                raise ValueError("expected frame_number,quality,pdq_hex[,timestamp]")
            quality = int(parts[1])
            if not 0 <= quality <= 100:
                raise ValueError(f"quality must be 0 to 100, not {quality}")
            frames.append([normalize_hash("pdq", parts[2]), quality])
        except ValueError as exc:
            yield Refused(number, str(exc))
            continue
        if len(frames) > MAX_VPDQ_FRAMES:
            raise ReadError(f"Line {number}: more than {MAX_VPDQ_FRAMES} frames")
    if not frames:
        raise ReadError("no frame hashes in the file")
    digest = hashlib.sha256("".join(f[0] for f in frames).encode()).hexdigest()
    yield EntryFields(line=1, vpdq=frames, metadata={"frames": len(frames), "vpdq_digest": digest})
