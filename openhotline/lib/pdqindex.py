"""Exact PDQ index at Hamming distance <= threshold, shared by worker processes.

The hash sets of a hotline hold millions of PDQ hashes, and every stored image is looked
up against them, in every worker process. The index therefore:

- keeps hashes packed, 40 bytes per entry (int64 id + 32 hash bytes), in one append-only
  file that every process memory-maps read-only, so the pages are shared, not copied;
- finds every entry within the threshold (exact, never approximate), through
  multi-index-hashing segments (`openhotline.lib.pdqmih`) over runs of the file, plus a
  scan of the short unindexed tail;
- makes a newly added hash searchable at once in the writing process and within
  `max_staleness` seconds (0.1 s by default) in every other one, without a rebuild: new
  entries are scanned until there are enough of them for a small segment, and small
  segments are merged into larger ones now and then (each entry is rewritten O(log N)
  times over its life);
- needs nothing but opening its files after a restart.

Files, for an index at PATH: PATH (entries), PATH.manifest (JSON list of segments),
PATH.seg-START-END (one per segment), PATH.lock and PATH.index-lock (flock). Several
processes may add at once (appends are serialised by PATH.lock); one at a time builds
segments (PATH.index-lock). Linux/POSIX only (fcntl, rename semantics).

Usage::

    index = PdqIndex.open("var/pdq.idx")
    index.add([17, 18], ["d8f8f0cc...", "2dadda64..."])
    index.search("d8f8f0cc...")            # [(17, 0)]: (id, distance), closest first
    index.search_many([...], threshold=20)  # one such list per query
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openhotline.lib import pdqmih

MAGIC = b"OHPDQIDX"
VERSION = 1
HEADER_BYTES = 64
ENTRY = np.dtype([("id", "<i8"), ("hash", "u1", (32,))])
ENTRY_WORDS = np.dtype([("id", "<i8"), ("words", "u8", (4,))])
DEFAULT_THRESHOLD = 31
# Entries scanned before they get a segment; a scan of this many costs ~0.1 ms.
MIN_SEGMENT = 16384
# A segment absorbs the newer ones once it is no more than this many times their size.
MERGE_RATIO = 4
# Entries written per system call by a large add (a 40 MB buffer).
APPEND_BATCH = 1 << 20

HashInput = str | bytes | np.ndarray


def hashes_to_array(hashes: HashInput | Sequence[str | bytes]) -> np.ndarray:
    """PDQ hashes as a (k, 32) uint8 array, from 64-char hex, 32 bytes, or such an array."""
    if isinstance(hashes, np.ndarray):
        array = np.ascontiguousarray(hashes, dtype=np.uint8)
        if array.size % 32 or (array.ndim > 1 and array.shape[-1] != 32):
            raise ValueError(f"PDQ hashes are 32 bytes each, got an array of {array.shape}")
        return array.reshape(-1, 32)
    if isinstance(hashes, (str, bytes)):
        hashes = [hashes]
    out = np.empty((len(hashes), 32), dtype=np.uint8)
    for i, h in enumerate(hashes):
        raw = bytes.fromhex(h) if isinstance(h, str) else bytes(h)
        if len(raw) != 32:
            raise ValueError(f"a PDQ hash is 32 bytes (64 hex characters), got {len(raw)}")
        out[i] = np.frombuffer(raw, dtype=np.uint8)
    return out


@dataclass(frozen=True)
class _Snapshot:
    """What one reader sees: entries [0, count), of which [0, mapped) are memory-mapped
    and [mapped, count) were read into memory, and the segments over [0, indexed)."""

    count: int
    mapped: int
    ids: np.ndarray
    words: np.ndarray
    tail_ids: np.ndarray
    tail_words: np.ndarray
    segments: tuple[pdqmih.Segment, ...]
    indexed: int
    stamp: tuple[int, ...]


def _no_entries() -> tuple[np.ndarray, np.ndarray]:
    return np.empty(0, np.int64), np.empty((0, 4), np.uint64)


class PdqIndex:
    """An exact, incrementally updated, memory-mapped PDQ index. See the module docstring."""

    def __init__(self, path: Path, *, max_staleness: float = 0.1, build_workers: int = 2):
        self.path = path
        self.max_staleness = max_staleness
        self.build_workers = build_workers
        self._lock = threading.Lock()
        self._checked_at = 0.0
        ids, words = _no_entries()
        self._snapshot = _Snapshot(0, 0, ids, words, ids, words, (), 0, ())
        self._ensure_file()
        self.refresh()

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, max_staleness: float = 0.1, build_workers: int = 2
    ) -> PdqIndex:
        """Open the index at `path`, creating an empty one if there is none.

        `max_staleness`: how old (seconds) a reader's view of other processes' additions
        may get. `build_workers`: threads used to build segments.
        """
        return cls(Path(path), max_staleness=max_staleness, build_workers=build_workers)

    def __len__(self) -> int:
        return self._current().count

    # ---------------------------------------------------------------- reading

    def search(self, hash: HashInput, threshold: int = DEFAULT_THRESHOLD) -> list[tuple[int, int]]:
        """(id, distance) of every entry within `threshold` bits of `hash`, closest first."""
        return self.search_many(hashes_to_array(hash), threshold)[0]

    def search_many(
        self, hashes: HashInput | Sequence[str | bytes], threshold: int = DEFAULT_THRESHOLD
    ) -> list[list[tuple[int, int]]]:
        """`search` for many hashes at once (faster per hash): one result list per query."""
        queries = hashes_to_array(hashes)
        qnum, ids, dist = self.search_arrays(queries, threshold)
        out: list[list[tuple[int, int]]] = [[] for _ in range(len(queries))]
        for q, i, d in zip(qnum.tolist(), ids.tolist(), dist.tolist(), strict=True):
            out[q].append((i, d))
        return out

    def search_arrays(
        self, queries: HashInput | Sequence[str | bytes], threshold: int = DEFAULT_THRESHOLD
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Matches as arrays (query number, id, distance), sorted by query, distance, id.

        For callers that handle many matches and want no Python objects per match.
        """
        if not 0 <= threshold <= 256:
            raise ValueError("threshold must be between 0 and 256")
        snap = self._current()
        words = hashes_to_array(queries).view(np.uint64)
        if not len(words):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        found = []
        for seg in snap.segments:
            qnum, rows, dist = seg.search(snap.words, words, threshold)
            found.append((qnum, snap.ids[rows], dist))
        qnum, rows, dist = pdqmih.scan(snap.words, snap.indexed, snap.mapped, words, threshold)
        found.append((qnum, snap.ids[rows], dist))
        qnum, rows, dist = pdqmih.scan(snap.tail_words, 0, len(snap.tail_words), words, threshold)
        found.append((qnum, snap.tail_ids[rows], dist))
        qnum = np.concatenate([f[0] for f in found])
        ids = np.concatenate([f[1] for f in found]).astype(np.int64)
        dist = np.concatenate([f[2] for f in found]).astype(np.int64)
        order = np.lexsort((ids, dist, qnum))
        return qnum[order], ids[order], dist[order]

    def refresh(self) -> None:
        """Take in entries and segments added by other processes.

        Searches call this themselves at most `max_staleness` seconds apart.
        """
        with self._lock:
            self._checked_at = time.monotonic()
            for _ in range(5):
                try:
                    self._snapshot = self._load(self._snapshot)
                    return
                except FileNotFoundError:
                    # A segment was merged away between reading the manifest and opening
                    # it: read the newer manifest.
                    continue
            raise RuntimeError(f"{self.path}: segments keep changing while loading")

    def _current(self) -> _Snapshot:
        if time.monotonic() - self._checked_at >= self.max_staleness:
            self.refresh()
        return self._snapshot

    def _load(self, old: _Snapshot) -> _Snapshot:
        """A new snapshot, reusing what has not changed.

        Remapping the entries file costs page faults on the next searches, so a few new
        entries are read into memory instead; the file is remapped when a segment needs
        entries past the mapping or when the in-memory tail grows past MIN_SEGMENT.
        """
        st = os.stat(self.path)
        count = max(0, (st.st_size - HEADER_BYTES) // ENTRY.itemsize)
        stamp = (st.st_ino, count, *self._manifest_stamp())
        if stamp == old.stamp:
            return old
        manifest = self._read_manifest()
        last_end = manifest[-1]["end"] if manifest else 0
        same_file = bool(old.stamp) and old.stamp[0] == st.st_ino and count >= old.count
        if same_file and last_end <= old.mapped and count - old.mapped <= MIN_SEGMENT:
            mapped, ids, words = old.mapped, old.ids, old.words
            new_ids, new_words = self._read_entries(old.count, count)
            tail_ids = np.concatenate([old.tail_ids, new_ids])
            tail_words = np.concatenate([old.tail_words, new_words])
        else:
            mapped = count
            if count:
                raw = np.memmap(
                    self.path, dtype=ENTRY_WORDS, mode="r", offset=HEADER_BYTES, shape=(count,)
                )
                # Plain ndarray views: numpy's memmap subclass adds overhead to every index.
                ids, words = raw["id"].view(np.ndarray), raw["words"].view(np.ndarray)
            else:
                ids, words = _no_entries()
            tail_ids, tail_words = _no_entries()
        reuse = {seg.path.name: seg for seg in old.segments}
        segments: list[pdqmih.Segment] = []
        indexed = 0
        for entry in manifest:
            if entry["start"] != indexed or entry["end"] > mapped:
                break  # entries lost in a crash: scanned until indexed again
            try:
                seg = reuse.get(entry["file"]) or pdqmih.Segment(self.path.parent / entry["file"])
            except (ValueError, TypeError):  # a damaged segment: scan, and rebuild it later
                break
            segments.append(seg)
            indexed = seg.end
        return _Snapshot(
            count, mapped, ids, words, tail_ids, tail_words, tuple(segments), indexed, stamp
        )

    def _read_entries(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        if end <= start:
            return _no_entries()
        with open(self.path, "rb") as fh:
            fh.seek(HEADER_BYTES + start * ENTRY.itemsize)
            raw = np.frombuffer(fh.read((end - start) * ENTRY.itemsize), dtype=ENTRY_WORDS)
        return raw["id"].copy(), raw["words"].copy()

    # ---------------------------------------------------------------- writing

    def add(
        self,
        ids: Sequence[int] | np.ndarray,
        hashes: HashInput | Sequence[str | bytes],
        *,
        durable: bool = True,
    ) -> None:
        """Append entries; they are searchable when this returns.

        `durable` fsyncs the entries file, so that a power cut loses nothing added.
        Segments are then built or merged if enough entries have accumulated; when
        another process is already doing that, this process leaves it to them.
        """
        array = hashes_to_array(hashes)
        id_array = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(id_array) != len(array):
            raise ValueError(f"{len(id_array)} ids for {len(array)} hashes")
        if not len(array):
            return
        with self._flock(".lock", blocking=True), open(self.path, "r+b") as fh:
            size = os.fstat(fh.fileno()).st_size
            torn = (size - HEADER_BYTES) % ENTRY.itemsize
            if torn:  # a crash in the middle of an append: drop the partial entry
                fh.truncate(size - torn)
            fh.seek(0, os.SEEK_END)
            entries = np.empty(min(len(array), APPEND_BATCH), dtype=ENTRY)
            for lo in range(0, len(array), APPEND_BATCH):
                batch = entries[: min(APPEND_BATCH, len(array) - lo)]
                batch["id"] = id_array[lo : lo + len(batch)]
                batch["hash"] = array[lo : lo + len(batch)]
                fh.write(batch.data)
            fh.flush()
            if durable:
                os.fdatasync(fh.fileno())
        self.refresh()
        if self._snapshot.count - self._snapshot.indexed >= MIN_SEGMENT:
            self._index(wait=False)

    def compact(self) -> None:
        """Merge every segment and the unindexed tail into one segment (waits its turn)."""
        self._index(wait=True, merge_all=True)

    def _index(self, *, wait: bool, merge_all: bool = False) -> None:
        """Build a segment over the unindexed tail, absorbing segments it has caught up with.

        1. Take the index lock (or give up if another process holds it and not `wait`).
        2. Re-read the manifest and the entry count: they may have moved meanwhile.
        3. Extend the new run backwards over the newest segments while each is at most
           MERGE_RATIO times the run, so segment sizes grow geometrically.
        4. Build the segment, publish the new manifest atomically, delete what it replaces.
        """
        try:
            with self._flock(".index-lock", blocking=wait):
                self.refresh()
                snap = self._snapshot
                keep = list(snap.segments)
                start = snap.indexed
                while keep and (
                    merge_all or keep[-1].end - keep[-1].start <= MERGE_RATIO * (snap.count - start)
                ):
                    start = keep.pop().start
                if start == snap.count or (not merge_all and snap.count - start < MIN_SEGMENT):
                    return
                name = f"{self.path.name}.seg-{start}-{snap.count}"
                # Entries added with durable=False must be on disk before a segment that
                # covers them is published, or a power cut could leave it indexing others.
                with open(self.path, "rb") as fh:
                    os.fdatasync(fh.fileno())
                entries = np.memmap(
                    self.path,
                    dtype=ENTRY_WORDS,
                    mode="r",
                    offset=HEADER_BYTES,
                    shape=(snap.count,),
                )
                pdqmih.build_segment(
                    entries["words"],
                    start,
                    snap.count,
                    self.path.parent / name,
                    workers=self.build_workers,
                )
                del entries
                manifest = [{"start": s.start, "end": s.end, "file": s.path.name} for s in keep]
                manifest.append({"start": start, "end": snap.count, "file": name})
                self._write_manifest(manifest)
                self._remove_unlisted({str(m["file"]) for m in manifest})
        except BlockingIOError:
            return
        self.refresh()

    @contextmanager
    def frozen_files(self) -> Iterator[list[Path]]:
        """The files that make up the index, unchanged while the block runs (for snapshots).

        Holds both locks: no process appends or builds a segment meanwhile.
        """
        with self._flock(".index-lock", blocking=True), self._flock(".lock", blocking=True):
            listed = [self.path.parent / str(m["file"]) for m in self._read_manifest()]
            manifest = [self._manifest_path] if self._manifest_path.exists() else []
            yield [self.path, *manifest, *listed]

    # ---------------------------------------------------------------- files

    def _ensure_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._flock(".lock", blocking=True):
            if self.path.exists() and self.path.stat().st_size >= HEADER_BYTES:
                with open(self.path, "rb") as fh:
                    head = fh.read(HEADER_BYTES)
                version = int.from_bytes(head[8:12], "little")
                entry_size = int.from_bytes(head[12:16], "little")
                if head[:8] != MAGIC or (version, entry_size) != (VERSION, ENTRY.itemsize):
                    raise ValueError(f"{self.path} is not a PDQ index (version {VERSION})")
                return
            header = MAGIC + VERSION.to_bytes(4, "little") + ENTRY.itemsize.to_bytes(4, "little")
            with open(self.path, "wb") as fh:
                fh.write(header.ljust(HEADER_BYTES, b"\0"))
                fh.flush()
                os.fsync(fh.fileno())

    @contextmanager
    def _flock(self, suffix: str, *, blocking: bool) -> Iterator[None]:
        with open(self.path.with_name(self.path.name + suffix), "a+b") as fh:
            flags = fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB
            fcntl.flock(fh.fileno(), flags)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @property
    def _manifest_path(self) -> Path:
        return self.path.with_name(self.path.name + ".manifest")

    def _manifest_stamp(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self._manifest_path)
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read_manifest(self) -> list[dict]:
        try:
            with open(self._manifest_path, "rb") as fh:
                return json.load(fh)["segments"]
        except FileNotFoundError:
            return []

    def _write_manifest(self, segments: list[dict]) -> None:
        tmp = self._manifest_path.with_name(self._manifest_path.name + ".tmp")
        with open(tmp, "w") as fh:
            json.dump({"version": VERSION, "segments": segments}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._manifest_path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _remove_unlisted(self, listed: set[str]) -> None:
        prefix = self.path.name + ".seg-"
        for candidate in self.path.parent.iterdir():
            if candidate.name.startswith(prefix) and candidate.name not in listed:
                candidate.unlink(missing_ok=True)
