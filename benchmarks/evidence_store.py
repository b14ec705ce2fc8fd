"""Evidence write and read throughput: the local store, S3, and plain files as reference.

    python benchmarks/evidence_store.py [--items 8] [--mb 16] [--json]

Each store writes ``--items`` random files of ``--mb`` MiB through `BlobStore.put`
(streamed: AES-GCM segments, keyed-HMAC names; on S3 multipart uploads) and reads
them back through `iter_content` (decrypted and checked). The reference is the same
bytes written to and read from plain files, unencrypted, on the same disk.

S3 is moto's server started on loopback (as the tests do), unless
``OPENHOTLINE_BENCH_S3_URL=s3://bucket/prefix`` names a real one (the AWS
variables then say where and how). moto keeps objects in memory in Python, so its
figures are a floor for the code's overhead, not a figure for a real S3 service.

`measure_stores()` is what `benchmarks/scale.py` calls; with ``--json`` the last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Importable once the line above has run, without installing the package.
from openhotline.lib.blobcrypto import KeyRing  # noqa: E402
from openhotline.lib.blobstore import BlobStore, Storage  # noqa: E402

MIB = 1024 * 1024


class RandomStream:
    """``size`` random bytes produced as they are read (like an upload arriving)."""

    def __init__(self, size: int, seed: bytes) -> None:
        self.left = size
        self.block = (seed * (MIB // len(seed) + 1))[:MIB]

    def read(self, size: int = -1, /) -> bytes:
        n = self.left if size < 0 else min(size, self.left)
        self.left -= n
        return (self.block * (n // MIB + 1))[:n]


def measure(store: BlobStore, *, items: int, size: int) -> dict[str, float]:
    """MB/s written and read back through ``store``."""
    seeds = [secrets.token_bytes(4096) for _ in range(items)]
    started = time.perf_counter()
    names = [store.put(RandomStream(size, seed)).name for seed in seeds]
    written = time.perf_counter() - started
    started = time.perf_counter()
    total = 0
    for name in names:
        for segment in store.iter_content(name):
            total += len(segment)
    read = time.perf_counter() - started
    if total != items * size:
        raise RuntimeError(f"read back {total} bytes of {items * size}")
    return {"write_mb_s": items * size / MIB / written, "read_mb_s": total / MIB / read}


def measure_plain_files(directory: Path, *, items: int, size: int) -> dict[str, float]:
    """The reference: the same bytes to plain files (fsynced like the store), unencrypted."""
    started = time.perf_counter()
    paths = []
    for index in range(items):
        path = directory / f"plain-{index}"
        source = RandomStream(size, secrets.token_bytes(4096))
        with path.open("wb") as out:
            while chunk := source.read(MIB):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        paths.append(path)
    written = time.perf_counter() - started
    started = time.perf_counter()
    total = 0
    for path in paths:
        with path.open("rb") as file:
            while chunk := file.read(MIB):
                total += len(chunk)
    read = time.perf_counter() - started
    return {"write_mb_s": items * size / MIB / written, "read_mb_s": total / MIB / read}


@contextmanager
def s3_storage() -> Iterator[Storage]:
    """The S3 storage to measure: the one named in the environment, or a moto server."""
    from openhotline.lib.s3storage import storage_from_url

    url = os.environ.get("OPENHOTLINE_BENCH_S3_URL", "")
    if url:
        yield storage_from_url(url)
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    saved = dict(os.environ)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.2)
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench-secret",
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        storage = storage_from_url("s3://bench/evidence")
        storage.client.create_bucket(Bucket="bench")
        yield storage
    finally:
        os.environ.clear()
        os.environ.update(saved)
        proc.terminate()
        proc.wait(timeout=10)


def measure_stores(*, items: int = 8, size_mb: int = 16) -> dict[str, Any]:
    """Write and read MB/s of plain files, the local store and S3, and their ratios."""
    size = size_mb * MIB
    keys = KeyRing.generate()
    result: dict[str, Any] = {"items": items, "size_mb": size_mb}
    with tempfile.TemporaryDirectory() as tmp:
        plain = measure_plain_files(Path(tmp), items=items, size=size)
        local = measure(BlobStore(Path(tmp) / "store", keys), items=items, size=size)
    with s3_storage() as storage:
        s3 = measure(BlobStore(storage, keys), items=items, size=size)
    for label, figures in (("plain", plain), ("local", local), ("s3", s3)):
        for key, value in figures.items():
            result[f"{label}_{key}"] = round(value, 1)
    result["local_vs_plain_write"] = round(local["write_mb_s"] / plain["write_mb_s"], 2)
    result["local_vs_plain_read"] = round(local["read_mb_s"] / plain["read_mb_s"], 2)
    result["s3_vs_local_write"] = round(s3["write_mb_s"] / local["write_mb_s"], 2)
    result["s3_vs_local_read"] = round(s3["read_mb_s"] / local["read_mb_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--mb", type=int, default=16, help="MiB per item")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure_stores(items=args.items, size_mb=args.mb)
    print(f"{args.items} items of {args.mb} MiB        write MB/s   read MB/s")
    for label in ("plain", "local", "s3"):
        name = {"plain": "plain files (reference)", "local": "local store", "s3": "S3 store"}
        print(
            f"  {name[label]:<28} {result[f'{label}_write_mb_s']:>9}"
            f"   {result[f'{label}_read_mb_s']:>9}"
        )
    print(
        f"  local/plain: write {result['local_vs_plain_write']}x, "
        f"read {result['local_vs_plain_read']}x; "
        f"S3/local: write {result['s3_vs_local_write']}x, read {result['s3_vs_local_read']}x"
    )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
