"""Scaling out: one worker machine against two, and a hash-set import seen on the other.

Starts on loopback what it needs, as CI does, unless given in the environment:

- PostgreSQL: ``DATABASE_URL``, else a throw-away server on a free loopback
  port (``benchmarks/pgserver.py``, Debian's ``postgresql`` binaries);
  ``--sqlite`` runs on a SQLite file instead and says so;
- Redis: ``CELERY_BROKER_URL``, else a ``redis-server`` on a free port;
- a website on 127.0.0.1 whose pages each hold one picture, answering after a
  simulated network latency (``--latency``).

Each "machine" is an ``openhotline worker`` with its own ``OPENHOTLINE_DATA``
(its own PDQ index and node name); they share the database, the broker, the
secrets and the evidence store. It measures:

1. crawl plus hash throughput (pages crawled, their pictures stored and
   hashed, per second) with one machine, then with two (goal: >= 1.7x);
2. the time from a hash-set import on machine A to machine B's index
   holding it (``replica_apply_s``) and to a match on B finding it
   (``import_to_match_s``, goal <= 5 s);
3. evidence write and read throughput on the local store and on S3
   (``benchmarks/evidence_store.py``'s ``measure_stores``: moto's server on
   loopback unless ``OPENHOTLINE_BENCH_S3_URL`` names a real bucket).

    python benchmarks/scale.py [--pages 60] [--latency 0.3] [--sqlite] [--json]

With ``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONTROL = """
import io, json, sys, time
from openhotline.accounts.actions import do_create_organisation
from openhotline.accounts.models import Organisation
from openhotline.evidence.models import HashState, MediaItem
from openhotline.matching.actions.hash_sets import do_create_set
from openhotline.matching.actions.importing import do_import
from openhotline.matching.changelog import latest_serial
from openhotline.matching.models import HashSet, IndexReplica, Match
from openhotline.matching.readers import ReadOptions
from openhotline.matching.tasks import match_media_item
from openhotline.reports.actions import do_file_report

def answer(value):
    print(json.dumps(value), flush=True)

answer("ready")
for line in sys.stdin:
    cmd = json.loads(line)
    do = cmd["do"]
    if do == "setup":
        hotline = Organisation.objects.filter(name="Scale bench").first() or \\
            do_create_organisation("Scale bench", "hotline", "DK")
        hash_set = HashSet.objects.filter(name="Scale bench").first() or \\
            do_create_set("Scale bench")
        answer([hotline.pk, hash_set.pk])
    elif do == "report":
        hotline = Organisation.objects.get(pk=cmd["hotline"])
        for url in cmd["urls"]:
            do_file_report(hotline, source="partner", urls=[url])
        answer("ok")
    elif do == "hashed":
        done = MediaItem.objects.filter(hash_state=HashState.DONE, sha256__in=cmd["sha256"])
        answer(done.count())
    elif do == "worker_up":
        from openhotline.ops.models import WorkerHeartbeat
        answer(WorkerHeartbeat.objects.filter(hostname=cmd["hostname"]).exists())
    elif do == "item":
        answer(MediaItem.objects.filter(sha256=cmd["sha256"]).values_list("pk", flat=True).first())
    elif do == "import_and_match":
        data = "".join(h + "\\n" for h in cmd["pdq"]).encode()
        do_import(HashSet.objects.get(pk=cmd["set"]), io.BytesIO(data), file_name="bench",
                  format="list", options=ReadOptions(hash64_as="pdq"))
        imported, serial = time.monotonic(), latest_serial()
        match_media_item.delay(cmd["item"])
        applied = matched = None
        while time.monotonic() - imported < 30 and (applied is None or matched is None):
            if applied is None and IndexReplica.objects.filter(
                node=cmd["node"], serial__gte=serial
            ).exists():
                applied = time.monotonic() - imported
            if matched is None and Match.objects.filter(media_item_id=cmd["item"]).exists():
                matched = time.monotonic() - imported
            time.sleep(0.02)
        answer([applied, matched])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def picture(n: int, run: int) -> bytes:
    """Picture ``n`` of this run: new pixels each run, so a reused database holds none of them."""
    from PIL import Image

    rng = random.Random(f"{run}:{n}")
    image = Image.new("RGB", (16, 16))
    image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(256)])
    out = io.BytesIO()
    image.resize((512, 512), Image.Resampling.NEAREST).save(out, "PNG")
    return out.getvalue()


def start_site(latency: float, images: dict[int, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            time.sleep(latency)
            kind, _, n = self.path.strip("/").partition("/")
            if kind == "p" and n.isdigit():
                body, ctype = f"<title>{n}</title><img src='/i/{n}.png'>".encode(), "text/html"
            elif kind == "i" and n[:-4].isdigit() and int(n[:-4]) in images:
                body, ctype = images[int(n[:-4])], "image/png"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes] | None, str]:
    if os.environ.get("CELERY_BROKER_URL"):
        return None, os.environ["CELERY_BROKER_URL"]
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("scale.py: no CELERY_BROKER_URL and no redis-server to start")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    sys.exit("scale.py: redis-server did not start")


class Cluster:
    """Worker machines sharing a database, a broker, secrets and the evidence store."""

    def __init__(self, workdir: Path, broker: str) -> None:
        self.workdir = workdir
        self.shared = {
            "CELERY_BROKER_URL": broker,
            "OPENHOTLINE_SECRET_KEY": secrets.token_urlsafe(50),
            "OPENHOTLINE_INTAKE_KEY": secrets.token_urlsafe(50),
            "OPENHOTLINE_AUDIT_KEY": secrets.token_urlsafe(50),
            "OPENHOTLINE_AUDIT_CHECKPOINT_KEY": secrets.token_urlsafe(50),
            "OPENHOTLINE_EVIDENCE_DIR": str(workdir / "evidence"),
            "OPENHOTLINE_EVIDENCE_KEYRING_FILE": str(workdir / "keyring.json"),
            "OPENHOTLINE_FETCH_ALLOW": "127.0.0.1",
            "OPENHOTLINE_RDAP_CLIENT": "",
            "OPENHOTLINE_CRAWL_RENDER": "off",
            "OPENHOTLINE_CRAWL_PER_HOST": "16",
            "OPENHOTLINE_INDEX_POLL_SECONDS": "0.5",
            "PYTHONPATH": str(ROOT),
        }
        if not os.environ.get("DATABASE_URL"):
            self.shared["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
        self.workers: list[subprocess.Popen[bytes]] = []

    def env(self, node: str) -> dict[str, str]:
        return {**os.environ, **self.shared, "OPENHOTLINE_DATA": str(self.workdir / node)}

    def node_name(self, node: str) -> str:
        return f"{socket.gethostname()}:{self.workdir / node / 'index'}"

    def run(self, node: str, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "openhotline", *args],
            env=self.env(node),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start_worker(self, node: str, concurrency: int) -> None:
        log = (self.workdir / f"{node}.log").open("ab")
        self.workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "openhotline", "worker", "--concurrency", str(concurrency)]
                + ["--hostname", f"{node}-{len(self.workers)}@scale", "--loglevel", "WARNING"],
                env=self.env(node),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def stop_workers(self) -> None:
        for proc in self.workers:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        self.workers = []


class Control:
    def __init__(self, cluster: Cluster, node: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openhotline", "shell", "--no-imports", "-c", CONTROL],
            env=cluster.env(node),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.read() != "ready":
            sys.exit("scale.py: the control shell did not start")

    def read(self) -> Any:
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            sys.exit("scale.py: the control shell stopped")
        return json.loads(line)

    def __call__(self, **command: Any) -> Any:
        if self.proc.stdin is None:
            sys.exit("scale.py: the control shell has no input")
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def crawl_round(
    control: Control, hotline: int, base: str, pages: range, digests: list[str]
) -> float:
    """Pages per second, from filing the reports to the last picture hashed."""
    started = time.monotonic()
    control(do="report", hotline=hotline, urls=[f"{base}/p/{n}" for n in pages])
    while control(do="hashed", sha256=digests) < len(digests):
        if time.monotonic() - started > 900:
            sys.exit("scale.py: crawling took over 15 minutes; see the worker logs")
        time.sleep(0.2)
    return len(pages) / (time.monotonic() - started)


def evidence_throughput(workdir: Path, megabytes: int) -> dict[str, float]:
    """Write and read MB/s of the local evidence store (encrypted, as in production)."""
    from openhotline.lib.blobstore import BlobStore, KeyRing, LocalStorage

    store = BlobStore(LocalStorage(workdir / "bench-evidence"), KeyRing.generate())
    blobs = [os.urandom(1 << 20) for _ in range(megabytes)]
    started = time.monotonic()
    names = [store.put(blob).name for blob in blobs]
    written = time.monotonic() - started
    started = time.monotonic()
    for name in names:
        store.get(name)
    read = time.monotonic() - started
    return {"write_mb_s": round(megabytes / written, 1), "read_mb_s": round(megabytes / read, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=60, help="pages per round (one picture each)")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per HTTP response")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per machine")
    parser.add_argument("--evidence-mb", type=int, default=64)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    with contextlib.ExitStack() as stack:
        if not args.sqlite and not os.environ.get("DATABASE_URL"):
            from pgserver import throwaway_postgres  # benchmarks/ is on sys.path

            os.environ["DATABASE_URL"] = stack.enter_context(throwaway_postgres())
        elif args.sqlite:
            os.environ.pop("DATABASE_URL", None)
        run_benchmark(args)


def run_benchmark(args: argparse.Namespace) -> None:

    workdir = Path(tempfile.mkdtemp(prefix="oh-scale-"))
    os.chmod(workdir, 0o700)
    from openhotline.lib.pdq import hash_image

    total = 2 * args.pages + 1
    run = secrets.randbits(64)
    images = {n: picture(n, run) for n in range(total)}
    digests = {n: hashlib.sha256(images[n]).hexdigest() for n in range(total)}
    redis_proc, broker = start_redis(workdir)
    server, base = start_site(args.latency, images)
    cluster = Cluster(workdir, broker)
    control: Control | None = None
    results: dict[str, Any] = {
        "database": "postgresql" if "postgres" in os.environ.get("DATABASE_URL", "") else "sqlite",
        "cores": os.cpu_count(),
        "pages_per_round": args.pages,
        "latency_s": args.latency,
        "processes_per_machine": args.concurrency,
    }
    try:
        cluster.run("a", "migrate", "--verbosity", "0")
        control = Control(cluster, "a")
        hotline, hash_set = control(do="setup")
        # 1. One machine, then two, each round on pages and pictures of its own.
        cluster.start_worker("a", args.concurrency)
        time.sleep(5)
        one = crawl_round(
            control, hotline, base, range(args.pages), [digests[n] for n in range(args.pages)]
        )
        cluster.start_worker("b", args.concurrency)
        time.sleep(5)
        second = range(args.pages, 2 * args.pages)
        two = crawl_round(control, hotline, base, second, [digests[n] for n in second])
        results["one_node_pages_s"] = round(one, 2)
        results["two_node_pages_s"] = round(two, 2)
        results["two_node_speedup"] = round(two / one, 2)

        # 2. Import on machine A (the control runs there), matched on machine B only.
        cluster.stop_workers()
        cluster.start_worker("a", 1)  # crawls the picture; B then hashes and matches
        last = total - 1
        control(do="report", hotline=hotline, urls=[f"{base}/p/{last}"])
        while control(do="hashed", sha256=[digests[last]]) < 1:
            time.sleep(0.2)
        cluster.stop_workers()
        log = (workdir / "b-match.log").open("ab")
        cluster.workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "openhotline", "worker", "--concurrency", "1"]
                + ["--queues", "media", "--hostname", "b-match@scale", "--loglevel", "WARNING"],
                env=cluster.env("b"),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        # Measure from a running worker, not from its start-up.
        started = time.monotonic()
        while not control(do="worker_up", hostname="b-match@scale"):
            if time.monotonic() - started > 300:
                sys.exit("scale.py: the worker on machine B did not start")
            time.sleep(0.2)
        time.sleep(2)
        item = control(do="item", sha256=digests[last])
        applied, matched = control(
            do="import_and_match",
            set=hash_set,
            pdq=[hash_image(images[last]).pdq],
            item=item,
            node=cluster.node_name("b"),
        )
        results["replica_apply_s"] = None if applied is None else round(applied, 2)
        results["import_to_match_s"] = None if matched is None else round(matched, 2)

        # 3. Evidence store throughput: the S3 backend's benchmark, local and S3 (moto).
        try:
            from evidence_store import measure_stores  # benchmarks/ is on sys.path

            results["evidence"] = measure_stores(items=4, size_mb=args.evidence_mb // 4 or 1)
        except Exception as exc:  # no S3 server to start here: the local store alone
            results["evidence"] = {
                "local": evidence_throughput(workdir, args.evidence_mb),
                "s3": f"not measured: {type(exc).__name__}: {exc}",
            }
    finally:
        if control is not None:
            control.close()
        cluster.stop_workers()
        server.shutdown()
        if redis_proc is not None:
            redis_proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    if not args.json:
        for key, value in results.items():
            print(f"{key:>24}: {value}")
        print(
            f"goals: two_node_speedup >= 1.7 ({results['two_node_speedup']}), "
            f"import_to_match_s <= 5 ({results['import_to_match_s']})"
        )
    else:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
