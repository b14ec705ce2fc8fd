"""Keeping the PDQ indexes in step with the hash entries in the database.

Hashes go into the indexes only after their transaction has committed (see
``matching.index``), so for a moment they are pending. What is pending is
tracked in the database:

- an import's entries by their report: ``ImportReport.indexed_at`` is empty
  until ``index_import`` has indexed them (one UPDATE per import, not one per
  entry, which matters for imports of hundreds of thousands);
- other entries (our own set's) by their ``indexed`` flag, which
  ``index_flagged`` sets.

A process that dies in between leaves work pending, and the ``sync_index``
task (every few minutes) finishes it; a hash added twice is harmless, as hits
are looked up by entry id. ``rebuild_indexes`` writes fresh indexes from the
database, dropping deleted entries; ``matching.indexcheck`` compares the two.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
from django.db.models import Q, QuerySet
from django.utils import timezone

from openhotline.matching.index import BATCH, Batch, Pairs, RebuildResult, get_index
from openhotline.matching.models import (
    MIN_PDQ_QUALITY,
    HashEntry,
    ImportReport,
    ImportState,
)

CHUNK = 10_000
# Ids per UPDATE: long IN lists are slow to bind on PostgreSQL.
MARK_CHUNK = 1000


def usable_pdq(pdq: str, quality: int | None) -> bool:
    return bool(pdq) and (quality is None or quality >= MIN_PDQ_QUALITY)


def usable_frames(vpdq: list) -> list[str]:
    return list(
        dict.fromkeys(
            frame[0]
            for frame in vpdq or []
            if len(frame) >= 2 and (frame[1] is None or frame[1] >= MIN_PDQ_QUALITY)
        )
    )


def needs_index(pdq: str, quality: int | None, vpdq: list) -> bool:
    """Whether an entry has hashes for the PDQ indexes."""
    return usable_pdq(pdq, quality) or bool(usable_frames(vpdq))


def pending_imports(older_than: float | None = None) -> QuerySet[ImportReport]:
    reports = ImportReport.objects.filter(state=ImportState.DONE, indexed_at__isnull=True)
    if older_than is not None:
        reports = reports.filter(finished_at__lt=timezone.now() - timedelta(seconds=older_than))
    return reports


def pending_entries() -> QuerySet[HashEntry]:
    """Entries whose hashes may not be in the indexes yet."""
    return HashEntry.objects.filter(
        Q(indexed=False) | Q(import_report__in=pending_imports()) & ~Q(pdq="", vpdq=[])
    )


def _add_chunks(entries: QuerySet[HashEntry]) -> Iterator[list[int]]:
    """Add the hashes of ``entries`` to the indexes, a chunk at a time; yield each chunk's ids."""
    last = 0
    while True:
        rows = list(
            entries.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "pdq", "pdq_quality", "vpdq")[:CHUNK]
        )
        if not rows:
            return
        pdq, vpdq = Pairs(), Pairs()
        for pk, value, quality, frames in rows:
            if usable_pdq(value, quality):
                pdq.add(pk, value)
            for frame in usable_frames(frames):
                vpdq.add(pk, frame)
        get_index("pdq").add(pdq.ids, pdq.hashes)
        get_index("vpdq").add(vpdq.ids, vpdq.hashes)
        last = rows[-1][0]
        yield [row[0] for row in rows]


def index_import(report: ImportReport) -> int:
    """Index the entries of a committed import; return how many had hashes to index."""
    entries = HashEntry.objects.filter(import_report=report).exclude(pdq="", vpdq=[])
    done = sum(len(ids) for ids in _add_chunks(entries))
    ImportReport.objects.filter(pk=report.pk).update(indexed_at=timezone.now())
    return done


def index_flagged(where: Q | None = None, *, older_than: float | None = None) -> int:
    """Index the committed entries marked ``indexed=False``; return how many.

    ``older_than`` (seconds) leaves alone entries so new that the process that
    wrote them is probably indexing them. Call it outside any transaction.
    """
    flagged = HashEntry.objects.filter(indexed=False)
    if where is not None:
        flagged = flagged.filter(where)
    if older_than is not None:
        flagged = flagged.filter(created_at__lt=timezone.now() - timedelta(seconds=older_than))
    done = 0
    for ids in _add_chunks(flagged):
        for start in range(0, len(ids), MARK_CHUNK):
            HashEntry.objects.filter(pk__in=ids[start : start + MARK_CHUNK]).update(indexed=True)
        done += len(ids)
    return done


def index_pending(*, older_than: float | None = None) -> int:
    """Index everything pending: imports not indexed yet, then flagged entries."""
    done = sum(index_import(report) for report in pending_imports(older_than))
    return done + index_flagged(older_than=older_than)


def _pdq_batches(entries: QuerySet[HashEntry]) -> Iterator[Batch]:
    last = 0
    while True:
        rows = list(
            entries.filter(pk__gt=last)
            .exclude(pdq="")
            .order_by("pk")
            .values_list("pk", "pdq", "pdq_quality")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1][0]
        pairs = Pairs()
        for pk, value, quality in rows:
            if usable_pdq(value, quality):
                pairs.add(pk, value)
        yield pairs.ids, pairs.hashes


def _vpdq_batches(entries: QuerySet[HashEntry]) -> Iterator[Batch]:
    last = 0
    while True:
        rows = list(
            entries.filter(pk__gt=last)
            .exclude(vpdq=[])
            .order_by("pk")
            .values_list("pk", "vpdq")[: BATCH // 10]
        )
        if not rows:
            return
        last = rows[-1][0]
        pairs = Pairs()
        for pk, frames in rows:
            for frame in usable_frames(frames):
                pairs.add(pk, frame)
        yield pairs.ids, pairs.hashes


BATCHES = {"pdq": _pdq_batches, "vpdq": _vpdq_batches}


def rebuild_indexes(*, grace: float | None = None) -> dict[str, RebuildResult]:
    """Write both indexes afresh from the database and switch every process to them.

    Pending entries the rebuild took in are marked indexed, and so are imports
    finished before it started; what comes later is indexed by whoever wrote it.
    """
    results: dict[str, RebuildResult] = {}
    seen: set[int] = set()
    wall_clock_start = timezone.now()
    for kind, batches in BATCHES.items():

        def catch_up(indexed: np.ndarray, batches=batches) -> Iterator[Batch]:
            for ids, hashes in batches(HashEntry.objects.all()):
                keep = ~np.isin(np.asarray(ids, dtype=np.int64), indexed)
                seen.update(ids)
                yield (
                    [i for i, k in zip(ids, keep, strict=True) if k],
                    [h for h, k in zip(hashes, keep, strict=True) if k],
                )

        options = {} if grace is None else {"grace": grace}
        results[kind] = get_index(kind).rebuild(
            batches(HashEntry.objects.all()), catch_up, **options
        )
    flagged = HashEntry.objects.filter(indexed=False).values_list("pk", flat=True)
    marked = [pk for pk in flagged if pk in seen]
    for start in range(0, len(marked), MARK_CHUNK):
        HashEntry.objects.filter(pk__in=marked[start : start + MARK_CHUNK]).update(indexed=True)
    # Imports finished before the rebuild started were committed before its catch-up.
    pending_imports().filter(finished_at__lt=wall_clock_start).update(indexed_at=timezone.now())
    return results
