"""Our PDQ index against python-threatexchange's PDQIndex (Meta's HMA index), same work.

    python benchmarks/pdq_index.py --n 1000000 [--json]

Builds both indexes over the same N hashes (half random, half in near-duplicate
clusters), runs the same queries (half perturbed copies of stored hashes, half new
random hashes) one by one and batched at distance <= 31, and reports per index:
build_s, rss_mib (resident memory added by building and querying), p50_ms, p99_ms,
batched_qps, recall (against a brute-force scan done here), new_hash_s (time from adding
one hash until a search finds it). Ours also reports new_hash_other_process_s: the same,
seen from a second process that had the index open before.

Each index runs in a child process of its own, so memory is measured alone. PDQIndex
takes hex strings; they are made before its clock and memory baseline start, which
favours it. Virtual machines that populate guest memory lazily charge the first touch
of every page (here up to ~1 us per 4 KiB), and may take idle memory back; each child
touches `--prefault-gib` of memory just before it starts, so that neither index pays it.

Needs `threatexchange` and `faiss-cpu` (pip) for the reference index.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
THRESHOLD = 31


def rss_mib(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def flip_bits(rows: np.ndarray, max_flips: int, rng: np.random.Generator) -> None:
    """Flip 0..max_flips random bits (possibly repeating a bit) in each row, in place."""
    flips = rng.integers(0, max_flips + 1, len(rows))
    everyone = np.arange(len(rows))
    for j in range(max_flips):
        who = everyone[flips > j]
        bit = rng.integers(0, 256, len(who))
        rows[who, bit // 8] ^= (0x80 >> (bit % 8)).astype(np.uint8)


def make_data(n: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes (half random, half clusters of ~10 around random centres), queries, new hash."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    half = n // 2
    centres = rng.integers(0, 256, (max(1, half // 10), 32), dtype=np.uint8)
    hashes[half:] = centres[rng.integers(0, len(centres), n - half)]
    flip_bits(hashes[half:], 16, rng)
    hashes = hashes[rng.permutation(n)]
    q = hashes[rng.integers(0, n, queries)]
    flip_bits(q, 30, rng)
    q[queries // 2 :] = rng.integers(0, 256, (queries - queries // 2, 32), dtype=np.uint8)
    return hashes, q, rng.integers(0, 256, 32, dtype=np.uint8)


def brute_force(hashes: np.ndarray, queries: np.ndarray) -> set[tuple[int, int]]:
    """(query number, id) of every pair within THRESHOLD, by scanning everything."""
    words, qwords = hashes.view(np.uint64), queries.view(np.uint64)

    def part(qs: range) -> list[tuple[int, int]]:
        found = []
        for lo in range(0, len(words), 1 << 20):
            columns = [np.ascontiguousarray(words[lo : lo + (1 << 20), j]) for j in range(4)]
            for qi in qs:
                dist = np.bitwise_count(columns[0] ^ qwords[qi, 0]).astype(np.uint16)
                for j in (1, 2, 3):
                    dist += np.bitwise_count(columns[j] ^ qwords[qi, j])
                found += [(qi, int(i) + lo) for i in np.flatnonzero(dist <= THRESHOLD)]
        return found

    half = len(queries) // 2
    with ThreadPoolExecutor(2) as pool:
        parts = pool.map(part, [range(half), range(half, len(queries))])
    return {pair for p in parts for pair in p}


def latencies(
    search: Callable[[str], list[int]], queries_hex: list[str]
) -> tuple[list[float], list[list[int]]]:
    times, found = [], []
    for q in queries_hex:
        t0 = time.perf_counter()
        ids = search(q)
        times.append(time.perf_counter() - t0)
        found.append(ids)
    return times, found


def summary(
    build_s: float,
    rss0: float,
    times: list[float],
    batch_s: float,
    found: list[list[int]],
    truth: set[tuple[int, int]],
    new_hash_s: float,
) -> dict:
    pairs = {(qi, i) for qi, ids in enumerate(found) for i in ids}
    return {
        "build_s": round(build_s, 3),
        "rss_mib": round(rss_mib() - rss0, 1),
        "peak_rss_mib": round(rss_mib("VmHWM") - rss0, 1),
        "p50_ms": round(float(np.percentile(times, 50)) * 1e3, 3),
        "p99_ms": round(float(np.percentile(times, 99)) * 1e3, 3),
        "batched_qps": round(len(times) / batch_s, 1),
        "recall": len(pairs & truth) / len(truth) if truth else 1.0,
        "false_matches": len(pairs - truth),
        "new_hash_s": round(new_hash_s, 4),
    }


def run_ours(
    work: Path,
    hashes: np.ndarray,
    queries_hex: list[str],
    new: str,
    truth: set[tuple[int, int]],
    warmup: list[str],
) -> dict:
    from openhotline.lib.pdqindex import PdqIndex

    gc.collect()
    rss0 = rss_mib()
    t0 = time.perf_counter()
    index = PdqIndex.open(work / "ours" / "pdq.idx")
    index.add(np.arange(len(hashes)), hashes)
    build_s = time.perf_counter() - t0
    for q in warmup:
        index.search(q)
    times, found = latencies(lambda q: [i for i, _ in index.search(q)], queries_hex)
    t0 = time.perf_counter()
    index.search_many(queries_hex)
    batch_s = time.perf_counter() - t0
    reader = subprocess.Popen(
        [sys.executable, __file__, "--child", "reader", "--work", str(work), "--new", new],
        stdout=subprocess.PIPE,
        text=True,
    )
    if reader.stdout is None or reader.stdout.readline().strip() != "ready":
        raise SystemExit("the reader process did not start")
    t0 = time.perf_counter()
    added_at = time.monotonic()
    index.add([len(hashes)], [new])
    while not index.search(new, threshold=0):
        pass
    new_hash_s = time.perf_counter() - t0
    other = float(reader.stdout.readline()) - added_at
    reader.wait()
    result = summary(build_s, rss0, times, batch_s, found, truth, new_hash_s)
    result["new_hash_other_process_s"] = round(other, 4)
    return result


def run_reader(work: Path, new: str) -> None:
    from openhotline.lib.pdqindex import PdqIndex

    index = PdqIndex.open(work / "ours" / "pdq.idx")
    print("ready", flush=True)
    while not index.search(new, threshold=0):
        time.sleep(0.001)
    print(time.monotonic(), flush=True)


def run_pdqindex(
    hashes: np.ndarray,
    queries_hex: list[str],
    new: str,
    truth: set[tuple[int, int]],
    warmup: list[str],
) -> dict:
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    hexes = [h.hex() for h in map(bytes, hashes)]
    gc.collect()
    rss0 = rss_mib()
    t0 = time.perf_counter()
    index = PDQIndex(zip(hexes, range(len(hexes)), strict=True))
    build_s = time.perf_counter() - t0
    for q in warmup:
        index.query(q)
    times, found = latencies(lambda q: [m.metadata for m in index.query(q)], queries_hex)
    t0 = time.perf_counter()
    index.index.search_with_distance_in_result(queries_hex, THRESHOLD)
    batch_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.add(new, len(hashes))
    while not index.query(new):
        pass
    new_hash_s = time.perf_counter() - t0
    return summary(build_s, rss0, times, batch_s, found, truth, new_hash_s)


def child(kind: str, work: Path, new: str, prefault_gib: float) -> None:
    if kind == "reader":
        run_reader(work, new)
        return
    hashes = np.load(work / "hashes.npy")
    queries = np.load(work / "queries.npy")
    truth_array = np.load(work / "truth.npy")
    truth = {(int(q), int(i)) for q, i in truth_array}
    queries_hex = [bytes(q).hex() for q in queries]
    rng = np.random.default_rng(99)
    warmup = [bytes(q).hex() for q in rng.integers(0, 256, (50, 32), dtype=np.uint8)]
    prefault(prefault_gib)
    if kind == "ours":
        result = run_ours(work, hashes, queries_hex, new, truth, warmup)
    else:
        result = run_pdqindex(hashes, queries_hex, new, truth, warmup)
    print(json.dumps(result), flush=True)


def prefault(gib: float) -> None:
    """Touch and free `gib` GiB, then reset the peak-RSS counter (VmHWM) it raised."""
    if gib > 0:
        block = np.ones(int(gib * 2**30), dtype=np.uint8)
        del block
        Path("/proc/self/clear_refs").write_text("5")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="hashes in the index")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--work", type=Path, help="directory for data and index files")
    parser.add_argument(
        "--prefault-gib",
        type=float,
        default=None,
        help="memory to touch once first (default: 1 GiB per million hashes)",
    )
    parser.add_argument("--child", choices=["ours", "pdqindex", "reader"], help=argparse.SUPPRESS)
    parser.add_argument("--new", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work, args.new, args.prefault_gib)
        return
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    work = args.work or Path(tempfile.mkdtemp(prefix="pdq-index-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        gib = args.prefault_gib if args.prefault_gib is not None else args.n / 1e6
        hashes, queries, new = make_data(args.n, args.queries, args.seed)
        log(f"brute force over {args.n} hashes for {args.queries} queries...")
        truth = brute_force(hashes, queries)
        np.save(work / "hashes.npy", hashes)
        np.save(work / "queries.npy", queries)
        np.save(work / "truth.npy", np.array(sorted(truth), dtype=np.int64).reshape(-1, 2))
        del hashes
        results = {"n": args.n}
        for kind in ("ours", "pdqindex"):
            log(f"running {kind}...")
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    kind,
                    "--work",
                    str(work),
                    "--new",
                    bytes(new).hex(),
                    "--prefault-gib",
                    str(gib),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results))
        return
    report(results, len(truth))


def report(results: dict, pairs: int) -> None:
    ours, ref = results["ours"], results["pdqindex"]
    print(f"\nn = {results['n']:,}, {pairs} matching (query, hash) pairs at distance <= 31")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end: {load} (other work on the machine slows both)\n")
    print(f"{'':26}{'ours':>12}{'PDQIndex':>12}")
    for key in ours:
        print(f"{key:26}{ours[key]:>12}{ref.get(key, '-'):>12}")
    print("\nratios (goal at 10M in brackets)")
    print(f"  memory ours/PDQIndex   {ours['rss_mib'] / ref['rss_mib']:8.3f}  [<= 0.25]")
    print(f"  p50 ours/PDQIndex      {ours['p50_ms'] / ref['p50_ms']:8.3f}  [<= 0.5]")
    print(f"  build speed-up         {ref['build_s'] / ours['build_s']:8.1f}x [>= 20x]")
    print(f"  batched qps ours/ref   {ours['batched_qps'] / ref['batched_qps']:8.1f}x")
    print(f"  recall ours            {ours['recall']:8.4f}  [1.0]")
    print(f"  new hash found (ours)  {ours['new_hash_s']:8.4f}s [<= 1 s]")


if __name__ == "__main__":
    main()
