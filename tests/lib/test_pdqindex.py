from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from openhotline.lib import pdqmih
from openhotline.lib.pdqindex import ENTRY, HEADER_BYTES, MIN_SEGMENT, PdqIndex

ROOT = Path(__file__).resolve().parents[2]


def clustered_hashes(n: int, seed: int) -> np.ndarray:
    """Half random hashes, half copies of them with 0-20 bits flipped."""
    rng = np.random.default_rng(seed)
    half = n // 2
    out = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    out[half:] = out[rng.integers(0, half, n - half)]
    for row in range(half, n):
        for bit in rng.choice(256, rng.integers(0, 21), replace=False):
            out[row, bit // 8] ^= 0x80 >> (bit % 8)
    return out


def near(hashes: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Queries: stored hashes with 0-30 bits flipped, exact copies, and random hashes."""
    rng = np.random.default_rng(seed)
    queries = hashes[rng.integers(0, len(hashes), count)].copy()
    for row in range(count):
        for bit in rng.choice(256, rng.integers(0, 31), replace=False):
            queries[row, bit // 8] ^= 0x80 >> (bit % 8)
    queries[: count // 5] = rng.integers(0, 256, (count // 5, 32), dtype=np.uint8)
    queries[count // 5 : count // 5 + count // 10] = hashes[
        rng.integers(0, len(hashes), count // 10)
    ]
    return queries


def brute_force(
    ids: np.ndarray, hashes: np.ndarray, queries: np.ndarray, threshold: int
) -> list[list[tuple[int, int]]]:
    out = []
    for query in queries:
        dist = np.bitwise_count(hashes ^ query).sum(axis=1)
        hit = np.flatnonzero(dist <= threshold)
        out.append(sorted((int(dist[i]), int(ids[i])) for i in hit))
    return [[(i, d) for d, i in row] for row in out]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    hashes = clustered_hashes(6 * MIN_SEGMENT, seed=1)
    ids = np.random.default_rng(2).permutation(len(hashes)).astype(np.int64) * 3 - 7
    return ids, hashes


def build(path: Path, ids: np.ndarray, hashes: np.ndarray, batches: int) -> PdqIndex:
    index = PdqIndex.open(path)
    for part in np.array_split(np.arange(len(ids)), batches):
        index.add(ids[part], hashes[part], durable=False)
    return index


def build_layered(path: Path, ids: np.ndarray, hashes: np.ndarray) -> PdqIndex:
    """Entries in a large segment, a small one (too small to merge) and a scanned tail."""
    index = PdqIndex.open(path)
    cuts = [0, len(ids) - MIN_SEGMENT - 700, len(ids) - 600, len(ids) - 300, len(ids)]
    for lo, hi in itertools.pairwise(cuts):
        index.add(ids[lo:hi], hashes[lo:hi], durable=False)
    return index


@pytest.mark.parametrize("threshold", [0, 10, 31, 45, 90])
def test_search_equals_brute_force_on_random_and_clustered_data(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray], threshold: int
) -> None:
    ids, hashes = data
    index = build_layered(tmp_path / "pdq.idx", ids, hashes)
    queries = near(hashes, 200, seed=threshold)

    expected = brute_force(ids, hashes, queries, threshold)

    assert index.search_many(queries, threshold) == expected
    assert sum(map(len, expected)) > 10  # the test data do produce matches
    # Two segments, and an unindexed tail that the writer read into memory...
    snapshot = index._snapshot
    assert len(snapshot.segments) == 2
    assert snapshot.indexed == snapshot.mapped == snapshot.count - 600
    # ...and that a reader opening the file now finds memory-mapped.
    reader = PdqIndex.open(tmp_path / "pdq.idx")
    assert reader._snapshot.indexed < reader._snapshot.mapped == reader._snapshot.count
    assert reader.search_many(queries, threshold) == expected


def test_single_search_accepts_hex_bytes_and_arrays(tmp_path: Path) -> None:
    hashes = np.random.default_rng(3).integers(0, 256, (100, 32), dtype=np.uint8)
    index = build(tmp_path / "pdq.idx", np.arange(100), hashes, batches=1)
    query = hashes[42]

    by_hex = index.search(query.tobytes().hex())

    assert by_hex[0] == (42, 0)
    assert index.search(query.tobytes()) == by_hex == index.search(query)
    assert index.search(query, threshold=0) == [(42, 0)]


def test_it_rejects_malformed_hashes_and_thresholds(tmp_path: Path) -> None:
    index = PdqIndex.open(tmp_path / "pdq.idx")

    with pytest.raises(ValueError, match="32 bytes"):
        index.search("abcd")
    with pytest.raises(ValueError, match="threshold"):
        index.search("00" * 32, threshold=300)
    with pytest.raises(ValueError, match="ids"):
        index.add([1, 2], ["00" * 32])


def test_the_pigeonhole_radii_always_cover_the_threshold() -> None:
    for n in (10, 1000, MIN_SEGMENT, 10**6, 10**7, 10**9):
        layout = pdqmih.chunk_layout(n)
        assert sum(length for _, length in layout) == 256
        assert [offset for offset, _ in layout] == list(
            np.cumsum([0] + [length for _, length in layout[:-1]])
        )
        for threshold in range(256):
            radii = pdqmih.probe_radii(layout, threshold)
            assert sum(r + 1 for r in radii if r >= 0) > threshold


def test_reopening_finds_everything_without_rebuilding(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, hashes = data
    path = tmp_path / "pdq.idx"
    first = build(path, ids, hashes, batches=3)
    queries = near(hashes, 50, seed=9)
    before = first.search_many(queries)
    files = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    del first

    reopened = PdqIndex.open(path)

    assert len(reopened) == len(ids)
    assert reopened.search_many(queries) == before
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == files


def test_a_new_hash_is_found_by_another_process_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "pdq.idx"
    hashes = clustered_hashes(MIN_SEGMENT + 100, seed=4)
    index = build(path, np.arange(len(hashes)), hashes, batches=1)
    new_hash = bytes(range(32)).hex()
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), new_hash],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "ready"
        added_at = time.monotonic()
        index.add([10**12], [new_hash])
        found = reader.stdout.readline().split()
    finally:
        reader.wait(timeout=30)

    assert found[:2] == ["found", str(10**12)]
    assert float(found[2]) - added_at < 1.0


READER = """
import sys, time
from openhotline.lib.pdqindex import PdqIndex
index = PdqIndex.open(sys.argv[1])
assert index.search(sys.argv[2], threshold=0) == []
print("ready", flush=True)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    hits = index.search(sys.argv[2], threshold=0)
    if hits:
        print("found", hits[0][0], time.monotonic(), flush=True)
        break
    time.sleep(0.002)
"""

WRITER = """
import sys
import numpy as np
from openhotline.lib.pdqindex import PdqIndex
index = PdqIndex.open(sys.argv[1])
start = int(sys.argv[2])
rng = np.random.default_rng(start)
for lo in range(start, start + 20000, 2500):
    index.add(np.arange(lo, lo + 2500), rng.integers(0, 256, (2500, 32), dtype=np.uint8))
"""


def test_two_processes_can_add_at_the_same_time(tmp_path: Path) -> None:
    path = tmp_path / "pdq.idx"
    PdqIndex.open(path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start)], env=env)
        for start in (0, 10**6)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]

    index = PdqIndex.open(path)
    stored = np.concatenate([index._snapshot.ids, index._snapshot.tail_ids])

    assert len(index) == 40000
    assert sorted(stored.tolist()) == list(range(20000)) + list(range(10**6, 10**6 + 20000))
    for start in (0, 10**6):
        rng = np.random.default_rng(start)
        first_batch = rng.integers(0, 256, (2500, 32), dtype=np.uint8)
        assert index.search(first_batch[7], threshold=0) == [(start + 7, 0)]


def test_a_torn_append_is_ignored_then_repaired(tmp_path: Path) -> None:
    path = tmp_path / "pdq.idx"
    hashes = clustered_hashes(300, seed=5)
    index = build(path, np.arange(300), hashes, batches=1)
    with open(path, "ab") as fh:  # a crash in the middle of writing an entry
        fh.write(b"\x01" * 17)

    reader = PdqIndex.open(path)
    assert len(reader) == 300
    index.add([1000], [hashes[0]])

    assert path.stat().st_size == HEADER_BYTES + 301 * ENTRY.itemsize
    assert PdqIndex.open(path).search(hashes[0], threshold=0) == [(0, 0), (1000, 0)]


def test_compact_leaves_a_single_segment_with_the_same_answers(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, hashes = data
    index = build(tmp_path / "pdq.idx", ids, hashes, batches=9)
    queries = near(hashes, 50, seed=11)
    before = index.search_many(queries)

    index.compact()

    assert [(s.start, s.end) for s in index._snapshot.segments] == [(0, len(ids))]
    assert index.search_many(queries) == before
    assert sorted(p.name for p in tmp_path.glob("pdq.idx.seg-*")) == [f"pdq.idx.seg-0-{len(ids)}"]


def test_searches_from_threads_while_adding_see_consistent_results(tmp_path: Path) -> None:
    hashes = clustered_hashes(2 * MIN_SEGMENT, seed=6)
    index = build(tmp_path / "pdq.idx", np.arange(MIN_SEGMENT), hashes[:MIN_SEGMENT], batches=1)
    errors: list[BaseException] = []

    def search_loop() -> None:
        try:
            for i in range(200):
                assert index.search(hashes[i], threshold=0)[0] == (i, 0)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=search_loop) for _ in range(3)]
    for t in threads:
        t.start()
    for lo in range(MIN_SEGMENT, 2 * MIN_SEGMENT, 4096):
        index.add(np.arange(lo, lo + 4096), hashes[lo : lo + 4096], durable=False)
    for t in threads:
        t.join()

    assert errors == []
    assert (2 * MIN_SEGMENT - 1, 0) in index.search(hashes[-1], threshold=0)


def test_a_damaged_segment_is_scanned_instead_and_rebuilt(tmp_path: Path) -> None:
    hashes = clustered_hashes(MIN_SEGMENT + 2000, seed=12)
    path = tmp_path / "pdq.idx"
    build(path, np.arange(len(hashes)), hashes, batches=1)
    queries = near(hashes, 40, seed=13)
    (segment,) = tmp_path.glob("pdq.idx.seg-*")
    with open(segment, "r+b") as fh:  # e.g. a disk error in the middle
        fh.truncate(segment.stat().st_size // 2)

    index = PdqIndex.open(path)
    assert index._snapshot.segments == ()
    assert index.search_many(queries) == brute_force(np.arange(len(hashes)), hashes, queries, 31)
    index.compact()

    assert len(index._snapshot.segments) == 1
    assert index.search_many(queries) == brute_force(np.arange(len(hashes)), hashes, queries, 31)
