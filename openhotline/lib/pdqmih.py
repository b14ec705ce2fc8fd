"""Exact PDQ search over one immutable run of records: multi-index hashing and brute force.

`openhotline.lib.pdqindex` keeps hashes in an append-only file and indexes contiguous runs
of it ("segments") with the structure built here. A segment is one file that is only
ever memory-mapped read-only, so every worker process shares its pages.

Hashes are handled as four little-endian uint64 words (the 32 bytes as stored). The 256
bits are cut into C contiguous chunks of L bits (L grows with the segment size so that a
bucket holds about one entry). By the pigeonhole principle, if two hashes differ in at
most t bits and radii r_i satisfy sum(r_i + 1) > t, some chunk i differs in at most r_i
bits. Probing, for every chunk, every key within r_i bits of the query's chunk therefore
finds every hash within distance t: the search is exact, never approximate. When the
probes would cost more than scanning (large thresholds, tiny segments) the segment is
scanned instead, which is exact as well.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"OHPDQMIH"
HEADER_BYTES = 4096
MIN_CHUNK_BITS = 8
MAX_CHUNK_BITS = 22
# A scan costs about one sequential record read; a probed candidate costs a random one.
CANDIDATE_COST = 24
# Rows scanned per block (times the number of queries) so temporaries stay small.
SCAN_CELLS = 1 << 20
# Candidates gathered at once in a batched probe.
GATHER_ROWS = 1 << 20
LOW_HALF = 0 if sys.byteorder == "little" else 1


def popcount_distance(words: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distances between rows of `words` (k, 4) uint64 and one query (4,) uint64."""
    total = np.bitwise_count(words[:, 0] ^ query[0]).astype(np.uint16)
    for j in (1, 2, 3):
        total += np.bitwise_count(words[:, j] ^ query[j])
    return total


def pair_distance(words: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Hamming distances between matching rows of two (k, 4) uint64 arrays."""
    total = np.bitwise_count(words[:, 0] ^ queries[:, 0]).astype(np.uint16)
    for j in (1, 2, 3):
        total += np.bitwise_count(words[:, j] ^ queries[:, j])
    return total


def chunk_layout(n: int) -> list[tuple[int, int]]:
    """Chunks (bit offset, bit length) for a segment of n hashes, largest chunks first.

    About log2(n) bits per chunk keeps buckets near one entry each, while the bucket
    offset table (2**L entries per chunk) stays no larger than the postings.
    """
    bits = max(MIN_CHUNK_BITS, min(MAX_CHUNK_BITS, int(math.log2(max(n, 2)))))
    count = math.ceil(256 / bits)
    base, extra = divmod(256, count)
    lengths = [base + 1] * extra + [base] * (count - extra)
    layout, offset = [], 0
    for length in lengths:
        layout.append((offset, length))
        offset += length
    return layout


def chunk_keys(
    words: np.ndarray,
    offset: int,
    length: int,
    out: np.ndarray | None = None,
    spill: np.ndarray | None = None,
) -> np.ndarray:
    """The `length`-bit chunk starting at bit `offset` of each row of (k, 4) uint64 words.

    `out` and `spill` (uint64, k long) may be given to avoid allocating.
    """
    j, shift = divmod(offset, 64)
    key = np.right_shift(words[:, j], np.uint64(shift), out=out)
    if shift + length > 64:
        key |= np.left_shift(words[:, j + 1], np.uint64(64 - shift), out=spill)
    key &= np.uint64((1 << length) - 1)
    return key


@functools.lru_cache(maxsize=64)
def flip_masks(length: int, radius: int) -> np.ndarray:
    """Every `length`-bit XOR mask with at most `radius` bits set."""
    masks = [0]
    for r in range(1, radius + 1):
        for bits in itertools.combinations(range(length), r):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, dtype=np.uint64)


def probe_radii(layout: list[tuple[int, int]], threshold: int) -> list[int]:
    """Per-chunk radii with sum(r + 1) > threshold (-1: chunk not probed).

    The extra budget goes to the largest chunks, whose probes return fewer candidates.
    """
    need = threshold + 1
    count = len(layout)
    if need <= count:
        return [0] * need + [-1] * (count - need)
    base, extra = divmod(need, count)
    return [base] * extra + [base - 1] * (count - extra)


@dataclass(frozen=True)
class ProbePlan:
    """Precomputed probe keys for one threshold: which chunk each mask belongs to."""

    chunk: np.ndarray  # (P,) chunk number of each probe
    masks: np.ndarray  # (P,) uint64 XOR masks
    bases: np.ndarray  # (P,) int64 start of that chunk's bucket table


def scan(
    words: np.ndarray, start: int, end: int, queries: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact brute-force search of rows [start, end): (query numbers, rows, distances)."""
    found_q, found_r, found_d = [], [], []
    block = max(1024, SCAN_CELLS // max(1, len(queries)))
    for lo in range(start, end, block):
        hi = min(end, lo + block)
        rows = words[lo:hi]
        for qi, query in enumerate(queries):
            dist = popcount_distance(rows, query)
            hit = np.flatnonzero(dist <= threshold)
            if hit.size:
                found_q.append(np.full(hit.size, qi, dtype=np.int64))
                found_r.append(hit + lo)
                found_d.append(dist[hit])
    return _concat(found_q, found_r, found_d)


def _concat(qs: list, rs: list, ds: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not qs:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), np.empty(0, dtype=np.uint16)
    return np.concatenate(qs), np.concatenate(rs).astype(np.int64), np.concatenate(ds)


def build_segment(words: np.ndarray, start: int, end: int, path: Path, workers: int = 2) -> None:
    """Write the multi-index of rows [start, end) of `words` to `path`, atomically.

    1. Choose the chunk layout from the number of rows.
    2. Per chunk, sort (key << 32 | row) so rows group by key; the low 32 bits are the
       postings, and a search of the sorted keys gives each bucket's first posting.
    3. Chunks are independent: numpy sorts release the GIL, so they run on `workers`
       threads.
    4. Write into a temporary file, fsync, then rename: a crash leaves either the old
       state or a complete segment.
    """
    n = end - start
    layout = chunk_layout(n)
    bucket_counts = [(1 << length) + 1 for _, length in layout]
    total_postings = n * len(layout)
    offset_dtype = np.dtype(np.uint32) if total_postings < 2**32 else np.dtype(np.uint64)
    offsets_bytes = sum(bucket_counts) * offset_dtype.itemsize
    postings_at = HEADER_BYTES + _align(offsets_bytes)
    header = {
        "start": start,
        "end": end,
        "layout": layout,
        "offset_dtype": offset_dtype.str,
        "postings_at": postings_at,
    }
    encoded = json.dumps(header).encode()
    if 16 + len(encoded) > HEADER_BYTES:
        raise ValueError("segment header too long")
    size = postings_at + total_postings * 4
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.truncate(size)
    out = np.memmap(tmp, dtype=np.uint8, mode="r+", shape=(size,))
    offsets = np.ndarray((sum(bucket_counts),), dtype=offset_dtype, buffer=out, offset=HEADER_BYTES)
    postings = np.ndarray((total_postings,), dtype=np.uint32, buffer=out, offset=postings_at)
    table_at = np.concatenate([[0], np.cumsum(bucket_counts)[:-1]]).astype(np.int64)
    rows = np.arange(n, dtype=np.uint64)

    def index_chunks(first_chunk: int) -> None:
        # Buffers are reused from chunk to chunk: fresh 80 MB arrays cost page faults.
        keys = np.empty(n, dtype=np.uint64)
        spill = np.empty(n, dtype=np.uint64)
        for c in range(first_chunk, len(layout), threads):
            offset, length = layout[c]
            chunk_keys(words[start:end], offset, length, out=keys, spill=spill)
            table = offsets[table_at[c] : table_at[c] + bucket_counts[c]]
            table[0] = c * n
            table[1:] = np.cumsum(np.bincount(keys.view(np.int64), minlength=1 << length))
            table[1:] += c * n
            keys <<= np.uint64(32)
            keys |= rows
            keys.sort()
            # The low half of each packed word is the row number.
            postings[c * n : (c + 1) * n] = keys.view(np.uint32)[LOW_HALF::2]

    threads = max(1, min(workers, len(layout)))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(index_chunks, range(threads)))
    out[: len(MAGIC)] = np.frombuffer(MAGIC, dtype=np.uint8)
    out[8:16] = np.frombuffer(len(encoded).to_bytes(8, "little"), dtype=np.uint8)
    out[16 : 16 + len(encoded)] = np.frombuffer(encoded, dtype=np.uint8)
    out.flush()
    with open(tmp, "rb+") as synced:
        os.fsync(synced.fileno())
    os.replace(tmp, path)


def _align(nbytes: int) -> int:
    return (nbytes + 4095) // 4096 * 4096


class Segment:
    """A read-only, memory-mapped multi-index over records [start, end)."""

    def __init__(self, path: Path) -> None:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        if raw.size < HEADER_BYTES or bytes(raw[: len(MAGIC)]) != MAGIC:
            raise ValueError(f"{path} is not a PDQ index segment")
        length = int.from_bytes(bytes(raw[8:16]), "little")
        header = json.loads(bytes(raw[16 : 16 + length]))
        self.path = path
        self.start: int = header["start"]
        self.end: int = header["end"]
        self.layout: list[tuple[int, int]] = [tuple(c) for c in header["layout"]]
        n = self.end - self.start
        buckets = [(1 << length) + 1 for _, length in self.layout]
        offset_dtype = np.dtype(header["offset_dtype"])
        self.offsets = np.ndarray(
            (sum(buckets),), dtype=offset_dtype, buffer=raw, offset=HEADER_BYTES
        )
        self.postings = np.ndarray(
            (n * len(self.layout),), dtype=np.uint32, buffer=raw, offset=header["postings_at"]
        )
        self.table_at = np.concatenate([[0], np.cumsum(buckets)[:-1]]).astype(np.int64)
        self._plans: dict[int, ProbePlan | None] = {}

    def plan(self, threshold: int) -> ProbePlan | None:
        """Probe plan for `threshold`, or None when scanning the segment is cheaper."""
        if threshold not in self._plans:
            self._plans[threshold] = self._make_plan(threshold)
        return self._plans[threshold]

    def _make_plan(self, threshold: int) -> ProbePlan | None:
        n = self.end - self.start
        if threshold >= 256:
            return None
        chunks, masks, cost = [], [], 0.0
        for c, radius in enumerate(probe_radii(self.layout, threshold)):
            if radius < 0:
                continue
            length = self.layout[c][1]
            probes = sum(math.comb(length, k) for k in range(radius + 1))
            cost += probes * (1 + CANDIDATE_COST * n / 2**length)
            if cost > n:
                return None
            m = flip_masks(length, radius)
            masks.append(m)
            chunks.append(np.full(m.size, c, dtype=np.int64))
        chunk = np.concatenate(chunks)
        return ProbePlan(chunk=chunk, masks=np.concatenate(masks), bases=self.table_at[chunk])

    def search(
        self, words: np.ndarray, queries: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of this segment within `threshold` of each query: (query numbers, rows, distances).

        `words` is the whole record file's (N, 4) uint64 view; `queries` is (Q, 4) uint64.
        Each (query, row) pair appears once.
        """
        plan = self.plan(threshold)
        if plan is None:
            return scan(words, self.start, self.end, queries, threshold)
        # Keys of every probed chunk of every query, then every probe: (Q, P).
        keys = np.empty((len(queries), len(self.layout)), dtype=np.uint64)
        for c, (offset, length) in enumerate(self.layout):
            keys[:, c] = chunk_keys(queries, offset, length)
        buckets = (keys[:, plan.chunk] ^ plan.masks).astype(np.int64) + plan.bases
        first = self.offsets[buckets].astype(np.int64)
        counts = self.offsets[buckets + 1].astype(np.int64) - first
        per_query = counts.sum(axis=1)
        found_q, found_r, found_d = [], [], []
        lo = 0
        while lo < len(queries):
            # Group queries so that one gather stays below GATHER_ROWS candidates.
            hi = lo + 1
            budget = per_query[lo]
            while hi < len(queries) and budget + per_query[hi] <= GATHER_ROWS:
                budget += per_query[hi]
                hi += 1
            q, r, d = self._verify(
                words,
                queries,
                lo,
                first[lo:hi].ravel(),
                counts[lo:hi].ravel(),
                per_query[lo:hi],
                threshold,
            )
            found_q.append(q)
            found_r.append(r)
            found_d.append(d)
            lo = hi
        return _concat(found_q, found_r, found_d)

    def _verify(
        self,
        words: np.ndarray,
        queries: np.ndarray,
        q0: int,
        first: np.ndarray,
        counts: np.ndarray,
        per_query: np.ndarray,
        threshold: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        total = int(counts.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), np.empty(0, dtype=np.uint16)
        # Positions of every candidate posting: each bucket's run laid end to end.
        shift = first - (np.cumsum(counts) - counts)
        where = np.repeat(shift, counts) + np.arange(total, dtype=np.int64)
        rows = self.postings[where].astype(np.int64) + self.start
        qnum = np.repeat(np.arange(q0, q0 + len(per_query), dtype=np.int64), per_query)
        dist = pair_distance(words[rows], queries[qnum])
        hit = dist <= threshold
        qnum, rows, dist = qnum[hit], rows[hit], dist[hit]
        # A row close in several chunks was found several times.
        _, keep = np.unique(qnum * (self.end + 1) + rows, return_index=True)
        return qnum[keep], rows[keep], dist[keep]
