"""Image hashing throughput: our pipeline against the naive one, on 12-megapixel photos.

    python benchmarks/hashing.py [--megapixels 12] [--rounds 3] [--json]

The photos are made at run time: every test image of PDQ quality >= 80 that is at least
SOURCE_MIN_SIDE (1024) pixels long (the bridge in its 8 orientations, c.png) is upscaled to about
12 megapixels and saved as a JPEG (quality 90), held in memory.

- naive: decode the whole JPEG, then `pdqhash.compute` (as python-threatexchange does);
- ours: `openhotline.lib.pdq.hash_image`, i.e. MD5/SHA-1/SHA-256, the 8 dihedral PDQ
  hashes and the EXIF summary, from a reduced-size decode (more work than the naive
  pipeline does, apart from the decode).

Reports images per second for both, the ratio, and the drift: the Hamming distance
between our PDQ hash and the naive one, per photo (goal: <= 8 at quality >= 80).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Importable once the line above has run, without installing the package.
from openhotline.lib.pdq import hash_image, pdq_distance, pdq_hex  # noqa: E402

TESTDATA = ROOT.parent / "shared" / "testdata" / "pdq"
# The test images worth upscaling to a photo (the same set since the first measurement).
SOURCE_MIN_SIDE = 1024


def make_photos(megapixels: float) -> dict[str, bytes]:
    """Upscaled JPEG copies of the large, featureful test images."""
    photos = {}
    for row in csv.DictReader((TESTDATA / "expected.csv").open(encoding="utf-8")):
        source = Image.open(TESTDATA / row["file"]).convert("RGB")
        if max(source.size) < SOURCE_MIN_SIDE:
            continue
        if pdqhash.compute(np.asarray(source))[1] < 80:
            continue
        scale = (megapixels * 1e6 / (source.width * source.height)) ** 0.5
        size = (round(source.width * scale), round(source.height * scale))
        out = io.BytesIO()
        source.resize(size, Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
        photos[row["file"]] = out.getvalue()
    return photos


def naive(data: bytes) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return pdq_hex(bits), int(quality)


def ours(data: bytes) -> tuple[str, int]:
    result = hash_image(data)
    if result.pdq is None or result.pdq_quality is None:
        raise SystemExit(f"openhotline could not hash a benchmark image: {result.error}")
    return result.pdq, result.pdq_quality


def timed(
    fn: Callable[[bytes], tuple[str, int]], photos: dict[str, bytes], rounds: int
) -> tuple[float, dict[str, tuple[str, int]]]:
    """Best images/second over `rounds` passes, and the hashes."""
    best: float = 0.0
    hashes: dict[str, tuple[str, int]] = {}
    for _ in range(rounds):
        t0 = time.perf_counter()
        hashes = {name: fn(data) for name, data in photos.items()}
        best = max(best, len(photos) / (time.perf_counter() - t0))
    return best, hashes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--rounds", type=int, default=3, help="passes; the best one counts")
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args()

    photos = make_photos(args.megapixels)
    naive_ips, naive_hashes = timed(naive, photos, args.rounds)
    ours_ips, our_hashes = timed(ours, photos, args.rounds)
    drift = {
        name: pdq_distance(our_hashes[name][0], naive_hashes[name][0])
        for name in photos
        if naive_hashes[name][1] >= 80
    }
    result = {
        "images": len(photos),
        "megapixels": args.megapixels,
        "naive_images_per_s": round(naive_ips, 2),
        "ours_images_per_s": round(ours_ips, 2),
        "speedup": round(ours_ips / naive_ips, 2),
        "max_drift": max(drift.values()),
        "drift": drift,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{len(photos)} JPEGs of ~{args.megapixels:g} Mpx, best of {args.rounds} passes")
    print(f"  naive (full decode + pdqhash.compute): {naive_ips:7.2f} images/s")
    print(f"  ours  (hash_image: crypto + 8 PDQ):    {ours_ips:7.2f} images/s")
    print(f"  speed-up: {ours_ips / naive_ips:.1f}x  [goal >= 4x]")
    print(f"  drift from naive, max: {result['max_drift']} bits  [goal <= 8]")
    for name, bits in drift.items():
        print(f"    {name:28} {bits:3d}")


if __name__ == "__main__":
    main()
