"""Importing a hash-set file into a set: streamed, in batches, all or nothing.

An import runs in one transaction: a file that breaks off half-way (truncated,
hostile, interrupted) leaves no entry behind, and its ``ImportReport`` says
"failed" with the reason. Refused records do not stop it; they are counted and
kept on the report (the first MAX_KEPT_REJECTIONS, with line numbers). Entries
already in the set (same strongest hash) are counted as duplicates. The new
entries are written to the index change log in the same transaction, and the
PDQ index of every machine takes them from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import User
from openhotline.audit.log import record
from openhotline.matching.bulkload import insert_entries, large_cache
from openhotline.matching.changelog import log_added_query
from openhotline.matching.indexing import catch_up
from openhotline.matching.models import (
    HashEntry,
    HashSet,
    ImportRejection,
    ImportReport,
    ImportState,
    entry_key,
)
from openhotline.matching.readers import EntryFields, ReadError, ReadOptions, Refused, read_entries

BATCH = 2000
MAX_KEPT_REJECTIONS = 10_000

# Called after each batch with (records read, bytes read).
Progress = Callable[[int, int], None]


class ImportFailed(Exception):
    """The import stopped and nothing was imported; ``report`` says why."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.error)
        self.report = report


class _DryRun(Exception):
    pass


@dataclass
class _Counts:
    records: int = 0
    added: int = 0
    duplicates: int = 0
    rejected: int = 0


def do_import(
    hash_set: HashSet,
    file: IO[bytes],
    *,
    file_name: str,
    format: str,
    options: ReadOptions | None = None,
    actor: User | None = None,
    dry_run: bool = False,
    max_rejections: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``file`` into ``hash_set``; return the report, or raise ``ImportFailed``.

    1. Record the import as running (its own transaction, so a failure is kept).
    2. In one transaction, with the set locked against a concurrent import: read
       records, batch them, drop those already present, bulk-insert the rest.
    3. Save counts and refused lines; audit; log the new entries for the PDQ
       indexes, last, as that waits for other writers of the log (see
       ``matching.changelog``). A dry run rolls all of it back.
    4. After the commit, bring this machine's index up to date at once.
    """
    options = options or ReadOptions()
    report = ImportReport.objects.create(
        hash_set=hash_set, file_name=file_name[:255], format=format, actor=actor
    )
    counts = _Counts()
    refused: list[Refused] = []
    try:
        with large_cache(), transaction.atomic():
            HashSet.objects.select_for_update().filter(pk=hash_set.pk).first()
            items = read_entries(file, format, options)
            for batch in _batches(items, refused, counts, max_rejections, format):
                _insert(hash_set, report, batch, counts)
                if progress is not None:
                    progress(counts.records, _position(file))
            _finish(report, counts, refused, ImportState.DONE)
            if options.profile and hash_set.category_profile != options.profile:
                report.error = (
                    f"note: the file declares the {options.profile} profile; "
                    f"the set reads categories as {hash_set.category_profile}"
                )
                report.save(update_fields=["error"])
            record(
                "hashset.imported",
                actor=actor,
                organisation=hash_set.owner,
                obj=hash_set,
                detail={"import": report.code, "file": report.file_name, **vars(counts)},
            )
            if dry_run:
                raise _DryRun
            log_added_query(HashEntry.objects.filter(import_report=report).exclude(pdq="", vpdq=[]))
    except _DryRun:
        _finish(report, counts, refused, ImportState.DRY_RUN)
        return report
    except (ReadError, OSError, KeyboardInterrupt) as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        report.error = f"{reason}; nothing was imported"
        _finish(report, counts, refused, ImportState.FAILED)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ImportFailed(report) from None
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"[:2000]
        _finish(report, counts, refused, ImportState.FAILED)
        raise
    transaction.on_commit(catch_up)
    return report


def _position(file: IO[bytes]) -> int:
    try:
        return file.tell()
    except (OSError, ValueError):
        return 0


def _batches(
    items: Iterator[EntryFields | Refused],
    refused: list[Refused],
    counts: _Counts,
    max_rejections: int | None,
    format: str,
) -> Iterator[list[EntryFields]]:
    batch: list[EntryFields] = []
    for item in items:
        counts.records += 1
        if isinstance(item, Refused):
            counts.rejected += 1
            if len(refused) < MAX_KEPT_REJECTIONS:
                refused.append(item)
            if max_rejections is not None and counts.rejected > max_rejections:
                raise ReadError(
                    f"more than {max_rejections} records refused; is this the right "
                    f"format ({format})?"
                )
            continue
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _key(fields: EntryFields) -> str:
    return entry_key(
        md5=fields.md5,
        sha1=fields.sha1,
        sha256=fields.sha256,
        pdq=fields.pdq,
        vpdq_digest=str(fields.metadata.get("vpdq_digest", "")),
    )


def _insert(
    hash_set: HashSet, report: ImportReport, batch: list[EntryFields], counts: _Counts
) -> None:
    keyed: dict[str, EntryFields] = {}
    for fields in batch:
        key = _key(fields)
        if key in keyed:
            counts.duplicates += 1
        else:
            keyed[key] = fields
    now = timezone.now()
    added = insert_entries(
        {
            "hash_set_id": hash_set.pk,
            "key": key,
            "md5": f.md5,
            "sha1": f.sha1,
            "sha256": f.sha256,
            "pdq": f.pdq,
            "pdq_quality": f.pdq_quality,
            "vpdq": f.vpdq,
            "category": f.category,
            "verdict": "",
            "metadata": f.metadata,
            "source_media_id": None,
            "import_report_id": report.pk,
            "created_at": now,
        }
        for key, f in keyed.items()
    )
    counts.added += added
    counts.duplicates += len(keyed) - added


def _finish(report: ImportReport, counts: _Counts, refused: list[Refused], state: str) -> None:
    """Save the counts and refused lines (in the import's transaction, or after it)."""
    report.records = counts.records
    report.added = 0 if state == ImportState.FAILED else counts.added
    report.duplicates = counts.duplicates
    report.rejected = counts.rejected
    report.state = state
    report.finished_at = timezone.now()
    report.save(
        update_fields=[
            "records",
            "added",
            "duplicates",
            "rejected",
            "state",
            "finished_at",
            "error",
        ]
    )
    ImportRejection.objects.bulk_create(
        [ImportRejection(report=report, line=r.line, reason=r.reason[:300]) for r in refused],
        batch_size=1000,
    )
