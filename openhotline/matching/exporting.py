"""Writing a hash set out: VICS 2.0 JSON, CSV, or a plain list of one hash kind.

Entries are read in chunks and written one by one, so a set of any size needs
little memory. vPDQ entries have no place in these formats and are counted as
skipped (and so are entries without the hash a plain list asks for).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from openhotline.lib.hashlist import HashEntry as ListEntry
from openhotline.lib.hashlist import write_hash_csv, write_hash_list
from openhotline.lib.vics import VicsMedia
from openhotline.lib.vics_writer import PROFILES, VicsWriter
from openhotline.matching.models import HashEntry, HashSet

EXPORT_FORMATS = ("vics", "csv", "list")
LIST_KINDS = ("md5", "sha1", "sha256", "pdq")
CHUNK = 2000
_BOOLEANS = (
    "is_precategorized",
    "is_distributed",
    "is_suspected",
    "victim_identified",
    "offender_identified",
)
_TEXTS = ("mime_type", "relative_file_path", "series", "tags", "comments", "case_id", "photodna")


@dataclass
class ExportResult:
    written: int = 0
    skipped: int = 0


def _entries(hash_set: HashSet) -> Iterator[HashEntry]:
    return hash_set.entries.order_by("pk").iterator(chunk_size=CHUNK)


def export_set(
    hash_set: HashSet,
    out: TextIO,
    format: str,
    *,
    kind: str = "",
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write ``hash_set`` to ``out`` in ``format`` (``kind`` names a list's hash)."""
    result = ExportResult()

    def counted(items: Iterator[HashEntry]) -> Iterator[HashEntry]:
        yielded = 0
        for entry in items:
            if entry.vpdq and not (entry.md5 or entry.sha1 or entry.sha256 or entry.pdq):
                result.skipped += 1
                continue
            if format == "list" and not getattr(entry, kind):
                result.skipped += 1
                continue
            yield entry
            yielded += 1
            if progress is not None and yielded % CHUNK == 0:
                progress(yielded)

    entries = counted(_entries(hash_set))
    if format == "vics":
        profile = hash_set.category_profile if hash_set.category_profile in PROFILES else "US"
        with VicsWriter(out, profile=profile) as writer:
            for entry in entries:
                writer.write(vics_media(entry))
            result.written = writer.count
    elif format == "csv":
        result.written = write_hash_csv(
            out,
            (
                ListEntry(
                    md5=e.md5 or None,
                    sha1=e.sha1 or None,
                    sha256=e.sha256 or None,
                    pdq=e.pdq or None,
                    pdq_quality=e.pdq_quality,
                    category=e.category,
                    comment=str(e.metadata.get("comment") or "") or None,
                )
                for e in entries
            ),
            columns=("md5", "sha1", "sha256", "pdq", "pdq_quality", "category", "comment"),
        )
    elif format == "list":
        if kind not in LIST_KINDS:
            raise ValueError(f"a plain list holds one kind of hash: {', '.join(LIST_KINDS)}")
        result.written = write_hash_list(out, (getattr(e, kind) for e in entries), kind)  # type: ignore[arg-type]
    else:
        raise ValueError(f"unknown format {format!r} (one of {', '.join(EXPORT_FORMATS)})")
    return result


def vics_media(entry: HashEntry) -> VicsMedia:
    """An entry as a VICS media record, with the metadata an import kept."""
    meta: dict[str, Any] = entry.metadata
    fields: dict[str, Any] = {
        name: meta[name]
        for name in (*_BOOLEANS, *_TEXTS)
        if isinstance(meta.get(name), (str, bool))
    }
    for name in ("media_id", "media_size"):
        if isinstance(meta.get(name), int):
            fields[name] = meta[name]
    date = meta.get("date_updated")
    return VicsMedia(
        category=entry.category,
        md5=entry.md5 or None,
        sha1=entry.sha1 or None,
        sha256=entry.sha256 or None,
        pdq=entry.pdq or None,
        file_paths=tuple(p for p in meta.get("file_paths", ()) if isinstance(p, str)),
        date_updated=datetime.fromisoformat(date) if isinstance(date, str) else None,
        **fields,
    )
