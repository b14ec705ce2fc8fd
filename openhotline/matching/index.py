"""The installation's PDQ indexes: one for images, one for video frames.

Each is an ``openhotline.lib.pdqindex.PdqIndex`` whose ids are ``HashEntry``
primary keys: memory-mapped, so every worker process shares its pages, exact at
any threshold, and incremental (an added hash is found within a second by every
process). An entry is added after its transaction commits, never before: a
rolled-back id could otherwise be reused (SQLite reuses them) and match wrongly.

Rebuilding replaces the index, so it lives in generations:
``<OPENHOTLINE_MATCHING_INDEX_DIR>/pdq/CURRENT`` names the directory in use
(``g000003``), which holds the index files. A rebuild writes the next generation
beside it and switches ``CURRENT`` atomically; processes notice the switch on
their next search. Deleted entries stay in the index until a rebuild and are
ignored, because every hit is looked up in the database.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

from openhotline.lib.pdqindex import ENTRY, HEADER_BYTES, PdqIndex

KINDS = ("pdq", "vpdq")
INDEX_FILE = "hashes"
# How often a process looks for a rebuilt generation.
CHECK_INTERVAL = 0.2
# After switching generations: time for additions still aimed at the old one to land.
SWITCH_GRACE = 2.0
BATCH = 100_000

# Entry ids and their hashes (64 hex characters), in step.
Batch = tuple[Sequence[int], Sequence[str]]


class SharedIndex:
    """A PDQ index in generations under ``root`` (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked_at = 0.0
        self._index: PdqIndex | None = None
        self._generation = ""

    # ------------------------------------------------------------------ reading

    @property
    def generation(self) -> str:
        self.current()
        return self._generation

    def current(self) -> PdqIndex:
        """The index of the generation in use, reopened if a rebuild switched it."""
        with self._lock:
            now = time.monotonic()
            if self._index is not None and now - self._checked_at < CHECK_INTERVAL:
                return self._index
            self._checked_at = now
            pointer = self.root / "CURRENT"
            if not pointer.exists():
                self._write_pointer(_generation_name(1))
            st = pointer.stat()
            stamp = (st.st_ino, st.st_mtime_ns)
            if self._index is None or stamp != self._stamp:
                self._generation = pointer.read_text().strip()
                self._index = PdqIndex.open(self.path_of(self._generation))
                self._stamp = stamp
            return self._index

    def path_of(self, generation: str) -> Path:
        return self.root / generation / INDEX_FILE

    def search_many(self, hashes: Sequence[str], threshold: int) -> list[list[tuple[int, int]]]:
        """(entry id, distance) lists, one per hash; ids may repeat (see the docstring)."""
        if not hashes:
            return []
        return self.current().search_many(list(hashes), threshold)

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        if ids:
            self.current().add(list(ids), list(hashes))

    def __len__(self) -> int:
        return len(self.current())

    def read_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, hash as 4 uint64 words) in the index file in use, for checks."""
        path = self.path_of(self.generation)
        count = max(0, (path.stat().st_size - HEADER_BYTES) // ENTRY.itemsize)
        if not count:
            return np.empty(0, np.int64), np.empty((0, 4), np.uint64)
        raw = np.memmap(path, dtype=ENTRY, mode="r", offset=HEADER_BYTES, shape=(count,))
        ids = np.array(raw["id"], dtype=np.int64)
        words = np.ascontiguousarray(raw["hash"]).view(np.uint64).reshape(-1, 4).copy()
        return ids, words

    # ------------------------------------------------------------------ rebuilding

    def rebuild(
        self,
        snapshot: Iterable[Batch],
        catch_up: Callable[[np.ndarray], Iterable[Batch]],
        *,
        grace: float = SWITCH_GRACE,
    ) -> RebuildResult:
        """Write a new generation from ``snapshot`` and switch to it.

        1. Fill the next generation from the snapshot batches (ids, hashes), and
           merge it into one segment.
        2. Switch ``CURRENT`` to it (atomic rename); processes follow within
           CHECK_INTERVAL.
        3. Wait ``grace`` seconds: a process may still add to the old generation
           for a moment. Then ``catch_up(seen_ids)`` yields what the snapshot
           missed (entries committed meanwhile, wherever they were added); add it.
        4. Delete the older generations.
        """
        generation = _generation_name(self._next_number())
        path = self.path_of(generation)
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = PdqIndex.open(path)
        seen: list[np.ndarray] = []
        added = 0
        for ids, hashes in snapshot:
            if len(ids):
                fresh.add(ids, hashes, durable=False)
                seen.append(np.asarray(ids, dtype=np.int64))
                added += len(ids)
        fresh.compact()
        self._write_pointer(generation)
        time.sleep(grace)
        seen_ids = np.unique(np.concatenate(seen)) if seen else np.empty(0, np.int64)
        caught = 0
        for ids, hashes in catch_up(seen_ids):
            if len(ids):
                fresh.add(ids, hashes)
                caught += len(ids)
        for old in self.root.iterdir():
            if old.is_dir() and old.name != generation and old.name.startswith("g"):
                shutil.rmtree(old, ignore_errors=True)
        with self._lock:
            self._index = None
        return RebuildResult(generation, added, caught)

    def _next_number(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [
            int(p.name[1:])
            for p in self.root.iterdir()
            if p.name[:1] == "g" and p.name[1:].isdigit()
        ]
        return max(numbers, default=0) + 1

    def _write_pointer(self, generation: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(generation + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / "CURRENT")


@dataclass(frozen=True)
class RebuildResult:
    generation: str
    entries: int
    caught_up: int


def _generation_name(number: int) -> str:
    return f"g{number:06d}"


_indexes: dict[Path, SharedIndex] = {}
_indexes_lock = threading.Lock()


def get_index(kind: str) -> SharedIndex:
    """This process's handle on the installation's ``pdq`` or ``vpdq`` index."""
    if kind not in KINDS:
        raise ValueError(f"unknown index {kind!r}")
    root = Path(settings.OPENHOTLINE_MATCHING_INDEX_DIR) / kind
    with _indexes_lock:
        if root not in _indexes:
            _indexes[root] = SharedIndex(root)
        return _indexes[root]


@dataclass
class Pairs:
    """(entry id, hash) pairs bound for an index."""

    ids: list[int] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)

    def add(self, entry_id: int, value: str) -> None:
        self.ids.append(entry_id)
        self.hashes.append(value)
