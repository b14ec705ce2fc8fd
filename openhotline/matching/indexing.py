"""Keeping this machine's PDQ indexes in step with the hash entries in the database.

The database's change log (``matching.changelog``) numbers every entry added
or removed, in commit order. Each machine applies the changes after the serial
its index holds (``catch_up``), under a machine-wide file lock so that its
processes never apply the same change twice:

- the worker does it in the background every ``OPENHOTLINE_INDEX_POLL_SECONDS``
  (``matching.replica``), and before every match (one cheap query when there
  is nothing new), so a hash imported on one machine is matched on another
  within seconds, without a rebuild;
- a machine with an empty index starts from the newest snapshot in the object
  store (``matching.snapshots``), then applies only what came after it.

Removed entries need nothing: the index is append-only, and every hit is
looked up in the database. ``rebuild_indexes`` writes fresh indexes from the
database, dropping them; ``matching.indexcheck`` compares index and database.
"""

from __future__ import annotations

import fcntl
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from openhotline.matching import changelog
from openhotline.matching.index import BATCH, KINDS, Batch, Pairs, RebuildResult, get_index
from openhotline.matching.models import MIN_PDQ_QUALITY, HashEntry, IndexChange
from openhotline.matching.snapshots import restore_snapshots, store_snapshot

logger = logging.getLogger(__name__)

CHUNK = 10_000
# Ids per query: long IN lists are slow to bind on PostgreSQL.
FETCH_CHUNK = 1000


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


@contextmanager
def machine_lock() -> Iterator[None]:
    """This machine's lock on its indexes: one process applies changes at a time."""
    root = Path(settings.OPENHOTLINE_MATCHING_INDEX_DIR)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "catch-up.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def local_serial() -> int:
    """The last change both of this machine's indexes hold."""
    return min(get_index(kind).serial() for kind in KINDS)


def catch_up(*, restore: bool = True) -> int:
    """Apply the changes this machine's indexes lack; return how many were applied.

    1. Compare the newest serial of the log with ours, and check that the
       change at our serial is the one we applied: usually all is well and
       there is nothing new, and that is two quick queries.
    2. Take the machine lock and read our serials again (another process may
       have caught up meanwhile).
    3. An index still empty at serial 0 first installs the newest snapshot.
       An index whose last change is not in the log (the database was
       restored from a backup) follows the log again from the start: hashes
       added twice are harmless, and ``rebuild-index`` drops what is stale.
    4. Read the changes in order, a chunk at a time; add the usable hashes of
       the entries added (those removed since are skipped: gone from the
       database); then record the chunk's last change beside each index.
    """
    if changelog.latest_serial() <= local_serial() and not _diverged():
        return 0
    with machine_lock():
        if restore:
            _restore_if_empty()
        if _diverged():
            for kind in KINDS:
                logger.warning("PDQ index %s: its last change is not in the log; replaying", kind)
                get_index(kind).set_serial(0)
        applied = 0
        while True:
            serials = {kind: get_index(kind).serial() for kind in KINDS}
            start = min(serials.values())
            changes = changelog.changes_after(start, CHUNK)
            if not changes:
                return applied
            added = [entry for _, entry, op in changes if op == IndexChange.ADDED]
            pairs = _hash_pairs(added)
            last, last_entry, _ = changes[-1]
            for kind in KINDS:
                if serials[kind] < last:
                    newer = {entry for serial, entry, _ in changes if serial > serials[kind]}
                    ids, hashes = pairs[kind].ids, pairs[kind].hashes
                    keep = [n for n, i in enumerate(ids) if i in newer]
                    get_index(kind).add([ids[n] for n in keep], [hashes[n] for n in keep])
                    get_index(kind).set_serial(last, last_entry)
            applied += len(changes)


def _diverged() -> bool:
    marks = [get_index(kind).mark() for kind in KINDS]
    wanted = {serial for serial, _ in marks if serial}
    if not wanted:
        return False
    found = changelog.entries_at(wanted)
    return any(serial and found.get(serial) != entry for serial, entry in marks)


def _hash_pairs(entry_ids: list[int]) -> dict[str, Pairs]:
    pairs = {"pdq": Pairs(), "vpdq": Pairs()}
    for start in range(0, len(entry_ids), FETCH_CHUNK):
        rows = (
            HashEntry.objects.filter(pk__in=entry_ids[start : start + FETCH_CHUNK])
            .order_by("pk")
            .values_list("pk", "pdq", "pdq_quality", "vpdq")
        )
        for pk, value, quality, frames in rows:
            if usable_pdq(value, quality):
                pairs["pdq"].add(pk, value)
            for frame in usable_frames(frames):
                pairs["vpdq"].add(pk, frame)
    return pairs


def write_snapshots() -> dict[str, int]:
    """Bring this machine's indexes up to date and store them; return each one's serial.

    Holds the machine lock while exporting, so the files and the serial agree.
    """
    catch_up()
    serials: dict[str, int] = {}
    for kind in KINDS:
        with tempfile.TemporaryFile() as tmp:
            with machine_lock():
                serials[kind] = get_index(kind).export(tmp)
            tmp.seek(0)
            store_snapshot(kind, tmp)
    return serials


def _restore_if_empty() -> None:
    empty = [k for k in KINDS if get_index(k).serial() == 0 and not len(get_index(k))]
    if empty:
        restore_snapshots(empty)


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

    The log's newest serial is read first, then the entries: everything up to
    that serial is in the database read, and the next catch-up adds the rest.
    Holds the machine lock, so no catch-up writes to a generation meanwhile.
    """
    results: dict[str, RebuildResult] = {}
    options = {} if grace is None else {"grace": grace}
    with machine_lock():
        for kind, batches in BATCHES.items():
            mark = changelog.latest_mark()
            results[kind] = get_index(kind).rebuild(
                batches(HashEntry.objects.all()), mark, **options
            )
    catch_up(restore=False)
    return results
