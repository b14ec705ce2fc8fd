"""The installation's PDQ indexes: one for images, one for video frames.

Each is an ``openhotline.lib.pdqindex.PdqIndex`` whose ids are ``HashEntry``
primary keys: memory-mapped, so every worker process of a machine shares its
pages, exact at any threshold, and incremental (an added hash is found within
a second by every process of the machine).

Every machine has its own copy, kept current from the database's change log
(``matching.changelog``, applied by ``matching.indexing.catch_up``): each
generation directory holds a ``serial`` file: the last change it contains, with
that change's entry id, so that a log that is not the one the index followed
(a database restored from a backup) is noticed.

Rebuilding replaces the index, so it lives in generations:
``<OPENHOTLINE_MATCHING_INDEX_DIR>/pdq/CURRENT`` names the directory in use
(``g000003``), which holds the index files. A rebuild (or the installation of
a snapshot) writes the next generation beside it, with its serial, and
switches ``CURRENT`` atomically; processes notice the switch on their next
search. Deleted entries stay in the index until a rebuild and are ignored,
because every hit is looked up in the database.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from django.conf import settings

from openhotline.lib.pdqindex import ENTRY, HEADER_BYTES, PdqIndex

KINDS = ("pdq", "vpdq")
INDEX_FILE = "hashes"
SERIAL_FILE = "serial"
# How often a process looks for a rebuilt generation.
CHECK_INTERVAL = 0.2
# After switching generations: time for additions still aimed at the old one to land.
SWITCH_GRACE = 2.0
BATCH = 100_000

# Entry ids and their hashes (64 hex characters), in step.
Batch = tuple[Sequence[int], Sequence[str]]
# A change of the log: (serial, entry id).
Mark = tuple[int, int]


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

    def current(self, *, recheck: bool = False) -> PdqIndex:
        """The index of the generation in use, reopened if a rebuild switched it.

        ``recheck`` looks at ``CURRENT`` now rather than up to CHECK_INTERVAL later.
        """
        with self._lock:
            now = time.monotonic()
            fresh = now - self._checked_at < CHECK_INTERVAL and not recheck
            if self._index is not None and fresh:
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

    def serial(self) -> int:
        """The last change of the log that the generation in use contains."""
        return self.mark()[0]

    def mark(self) -> Mark:
        """(serial, entry id) of the last change the generation in use contains."""
        return _read_mark(self.current(recheck=True).path.parent)

    def set_serial(self, serial: int, entry_id: int = 0) -> None:
        _write_mark(self.current().path.parent, (serial, entry_id))

    def rebuild(
        self, snapshot: Iterable[Batch], mark: Mark, *, grace: float = SWITCH_GRACE
    ) -> RebuildResult:
        """Write a new generation from ``snapshot``, holding changes up to ``mark``.

        1. Fill the next generation from the snapshot batches (ids, hashes), and
           merge it into one segment; record ``serial`` beside it.
        2. Switch ``CURRENT`` to it (atomic rename); processes follow within
           CHECK_INTERVAL, and the next catch-up adds what came after ``serial``.
        3. After ``grace`` seconds (for a process still reading the old
           generation's files by name), delete the older generations.
        """
        generation = _generation_name(self._next_number())
        path = self.path_of(generation)
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = PdqIndex.open(path)
        added = 0
        for ids, hashes in snapshot:
            if len(ids):
                fresh.add(ids, hashes, durable=False)
                added += len(ids)
        fresh.compact()
        _write_mark(path.parent, mark)
        self._switch(generation, grace)
        return RebuildResult(generation, added, mark[0])

    def export(self, out: BinaryIO) -> int:
        """Write the generation in use as a tar stream (a snapshot); return its serial.

        The caller holds the machine's catch-up lock, so the serial and the files agree.
        """
        index = self.current(recheck=True)
        serial = _read_mark(index.path.parent)[0]
        with tarfile.open(fileobj=out, mode="w|") as tar, index.frozen_files() as files:
            for path in files:
                tar.add(path, arcname=path.name, recursive=False)
            tar.add(index.path.parent / SERIAL_FILE, arcname=SERIAL_FILE, recursive=False)
        return serial

    def install(self, source: BinaryIO, *, grace: float = SWITCH_GRACE) -> int:
        """Make a snapshot written by ``export`` the generation in use; return its serial."""
        generation = _generation_name(self._next_number())
        directory = self.path_of(generation).parent
        directory.mkdir(parents=True)
        with tarfile.open(fileobj=source, mode="r|") as tar:
            for member in tar:
                # Plain files with plain names only: a snapshot is data, never paths.
                if not member.isfile() or "/" in member.name or member.name.startswith("."):
                    raise ValueError(f"unexpected member {member.name!r} in an index snapshot")
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise ValueError(f"unreadable member {member.name!r} in an index snapshot")
                with open(directory / member.name, "wb") as fh:
                    shutil.copyfileobj(extracted, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
        PdqIndex.open(directory / INDEX_FILE)  # refuses a damaged or foreign file
        serial = _read_mark(directory)[0]
        self._switch(generation, grace)
        return serial

    def _switch(self, generation: str, grace: float) -> None:
        self._write_pointer(generation)
        with self._lock:
            self._index = None
        if grace:
            time.sleep(grace)
        for old in self.root.iterdir():
            if old.is_dir() and old.name != generation and old.name.startswith("g"):
                shutil.rmtree(old, ignore_errors=True)

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
    serial: int


def _read_mark(directory: Path) -> Mark:
    try:
        serial, _, entry_id = (directory / SERIAL_FILE).read_text().strip().partition(" ")
    except FileNotFoundError:
        return (0, 0)
    return (int(serial or 0), int(entry_id or 0))


def _write_mark(directory: Path, mark: Mark) -> None:
    tmp = directory / f"{SERIAL_FILE}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(f"{mark[0]} {mark[1]}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / SERIAL_FILE)


def _generation_name(number: int) -> str:
    return f"g{number:06d}"


_indexes: dict[Path, SharedIndex] = {}
_indexes_lock = threading.Lock()


def _forget_after_fork() -> None:
    # A worker forks its pool while its catch-up thread may hold these locks:
    # the child starts with fresh handles rather than a lock nobody will release.
    global _indexes_lock
    _indexes.clear()
    _indexes_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


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
