"""Several machines tested together, on one host.

Two worker "machines" (separate OPENHOTLINE_DATA, so separate PDQ indexes,
schedule files and node names) and a web process with a third, sharing the
database, a Redis broker, the S3 evidence store (moto's server on loopback)
and the key ring. Real processes throughout:

1. node A crawls (queue ``crawl``), node B hashes and matches (``media``,
   ``default``, and the beat); the web process serves the thumbnail;
2. a hash set imported on node A is in node B's index within 5 s, and a
   match on node B finds it;
3. node A is killed in the middle of 20 crawls; a second worker on node B
   finishes them, and nothing is fetched into the store twice.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from PIL import Image

from openhotline.accounts.models import Organisation, User
from openhotline.crawler.models import CrawlRun, CrawlState
from openhotline.crawler.tasks import STALE_SECONDS
from openhotline.evidence.models import Blob, HashState, MediaItem, UrlMedia
from openhotline.lib.pdq import hash_image
from openhotline.matching.actions.hash_sets import do_create_set
from openhotline.matching.changelog import latest_serial
from openhotline.matching.models import IndexReplica, Match
from openhotline.reports.models import ReportedUrl, UrlState
from tests.conftest import missing_service
from tests.support.loopback import reply, serve
from tests.support.s3 import S3Server
from tests.support.services import (
    RedisProcess,
    free_port,
    kill_group,
    openhotline_env,
    start_openhotline,
    wait_for_port,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SLOW_PAGES = 20


def picture(n: int) -> bytes:
    """A PNG of random blocks, different for every n, with a high PDQ quality."""
    rng = random.Random(n)
    image = Image.new("RGB", (16, 16))
    image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(256)])
    out = io.BytesIO()
    image.resize((256, 256), Image.Resampling.NEAREST).save(out, "PNG")
    return out.getvalue()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, logs: list[Path]) -> float:
    """Seconds it took; fails with the tail of every log."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tails}")


class Control:
    """A long-running `openhotline shell` on node A, for what an operator or intake does."""

    SCRIPT = (
        "import json, sys\n"
        "from openhotline.accounts.models import Organisation\n"
        "from openhotline.matching.actions.importing import do_import\n"
        "from openhotline.matching.models import HashSet\n"
        "from openhotline.matching.readers import ReadOptions\n"
        "from openhotline.matching.tasks import match_media_item\n"
        "from openhotline.reports.actions import do_file_report\n"
        "print('ready', flush=True)\n"
        "for line in sys.stdin:\n"
        "    cmd = json.loads(line)\n"
        "    if cmd['do'] == 'report':\n"
        "        hotline = Organisation.objects.get(pk=cmd['hotline'])\n"
        "        for url in cmd['urls']:\n"
        "            do_file_report(hotline, source='partner', urls=[url])\n"
        "    elif cmd['do'] == 'import':\n"
        "        data = ''.join(h + '\\n' for h in cmd['pdq']).encode()\n"
        "        do_import(HashSet.objects.get(pk=cmd['set']), io.BytesIO(data), file_name='l',\n"
        "                  format='list', options=ReadOptions(hash64_as='pdq'))\n"
        "    elif cmd['do'] == 'match':\n"
        "        match_media_item.delay(cmd['item'])\n"
        "    print('done', flush=True)\n"
    )

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openhotline",
                "shell",
                "--no-imports",
                "-c",
                "import io\n" + self.SCRIPT,
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("ab"),
            text=True,
            start_new_session=True,
        )
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def __call__(self, **command: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        assert self.readline() == "done"


@pytest.mark.timeout(600)
def test_two_worker_machines_and_a_web_process_work_as_one(
    tmp_path: Path, hotline_a: Organisation, analyst: User, s3_server: S3Server, s3_bucket: str
) -> None:
    broker = RedisProcess(tmp_path)
    if broker.binary is None or not broker.start():
        missing_service("redis-server (Debian package redis-server)")
    hotline = hotline_a
    known_set = do_create_set("Known elsewhere")
    shared = {
        "CELERY_BROKER_URL": broker.url,
        # What every machine of one installation shares: its secrets and its evidence.
        "OPENHOTLINE_SECRET_KEY": settings.SECRET_KEY,
        "OPENHOTLINE_INTAKE_KEY": settings.OPENHOTLINE_INTAKE_KEY,
        "OPENHOTLINE_AUDIT_KEY": settings.OPENHOTLINE_AUDIT_KEY,
        "OPENHOTLINE_AUDIT_CHECKPOINT_KEY": settings.OPENHOTLINE_AUDIT_CHECKPOINT_KEY,
        "OPENHOTLINE_FEDERATION_KEY": settings.OPENHOTLINE_FEDERATION_KEY,
        "OPENHOTLINE_EVIDENCE_URL": f"s3://{s3_bucket}/evidence",
        **s3_server.env,
        "OPENHOTLINE_EVIDENCE_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "OPENHOTLINE_REQUIRE_2FA": "false",
        "OPENHOTLINE_VISIBILITY_TIMEOUT": "60",
        "OPENHOTLINE_FETCH_ALLOW": "127.0.0.1",
        "OPENHOTLINE_RDAP_CLIENT": "",
        "OPENHOTLINE_CRAWL_RENDER": "off",
        "OPENHOTLINE_CRAWL_RETRY_SECONDS": "1",
        "OPENHOTLINE_CRAWL_PER_HOST": "4",
        "OPENHOTLINE_CRAWL_SWEEP_SECONDS": "2",
        "OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS": "20",
        "OPENHOTLINE_INDEX_POLL_SECONDS": "0.5",
        "OPENHOTLINE_WORKER_HEARTBEAT_SECONDS": "2",
    }
    env_a = openhotline_env(tmp_path / "node-a", **shared)
    env_b = openhotline_env(tmp_path / "node-b", **shared)
    env_web = openhotline_env(tmp_path / "web", **shared)
    logs = {name: tmp_path / f"{name}.log" for name in ("a", "b", "b2", "web", "control")}
    images = {n: picture(n) for n in (0, 1, *range(3, 3 + SLOW_PAGES))}
    known, late = (hash_image(images[n]).pdq for n in (0, 1))

    def page(handler: BaseHTTPRequestHandler) -> None:
        n = int(handler.path.rsplit("/", 1)[1])
        if handler.path.startswith("/slow/"):
            time.sleep(0.5)  # long enough that node A dies with crawls under way
        reply(handler, f"<title>page {n}</title><img src='/img/{n}.png'>".encode())

    def image(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, images[int(handler.path[5:-4])], content_type="image/png")

    processes: list[subprocess.Popen[bytes]] = []
    control: Control | None = None
    with serve({"/p/*": page, "/slow/*": page, "/img/*": image}) as site:
        try:
            worker = ["worker", "--concurrency", "2", "--queues"]
            node_a = start_openhotline([*worker, "crawl", "--hostname", "a@test"], env_a, logs["a"])
            processes.append(node_a)
            processes.append(
                start_openhotline(
                    [*worker, "media,default", "--hostname", "b@test", "--beat"], env_b, logs["b"]
                )
            )
            web_port = free_port()
            processes.append(
                start_openhotline(
                    [
                        "serve",
                        "--no-worker",
                        "--web-workers",
                        "1",
                        "--addr",
                        f"127.0.0.1:{web_port}",
                    ],
                    env_web,
                    logs["web"],
                )
            )
            control = Control(env_a, logs["control"])
            everything = list(logs.values())
            replicas = IndexReplica.objects.all()
            wait_until(lambda: replicas.count() == 2, 90, "both machines' indexes", everything)

            # 1. A crawl on node A, hashing and matching on node B, a thumbnail from the web.
            control(do="import", set=known_set.pk, pdq=[known])
            control(do="report", hotline=hotline.pk, urls=[site.url("/p/0"), site.url("/p/1")])
            hashed = MediaItem.objects.filter(hash_state=HashState.DONE)
            wait_until(lambda: hashed.count() == 2, 120, "both pictures hashed", everything)
            wait_until(
                lambda: Match.objects.filter(hash_set=known_set).exists(),
                30,
                "the match with the set imported on node A",
                everything,
            )
            match = Match.objects.get(hash_set=known_set)
            first = MediaItem.objects.get(pdq=known)
            assert match.media_item_id == first.pk
            a_log, b_log = logs["a"].read_text(), logs["b"].read_text()
            crawl, hashing, matching = (
                f"Task openhotline.{name}["
                for name in (
                    "crawler.tasks.crawl_reported_url",
                    "evidence.tasks.hash_media_item",
                    "matching.tasks.match_media_item",
                )
            )
            assert crawl in a_log and crawl not in b_log
            assert hashing in b_log and hashing not in a_log
            assert matching in b_log and matching not in a_log
            assert wait_for_port(web_port, 60)
            client = Client()
            client.force_login(analyst)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            request = urllib.request.Request(
                f"http://127.0.0.1:{web_port}/app/media/{first.code}/thumb.jpg",
                headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
            )
            with urllib.request.urlopen(request, timeout=30) as thumb:  # noqa: S310 (loopback)
                assert thumb.status == 200 and thumb.headers["Content-Type"] == "image/jpeg"
                assert thumb.read()[:3] == b"\xff\xd8\xff"

            # 2. Imported on node A, found by node B within 5 s, with no rebuild.
            second = MediaItem.objects.get(pdq=late)
            assert not Match.objects.filter(media_item=second).exists()
            control(do="import", set=known_set.pk, pdq=[late])
            imported_at, serial = time.monotonic(), latest_serial()
            node_b = replicas.exclude(node__contains=str(tmp_path / "node-a")).get()
            applied = wait_until(
                lambda: IndexReplica.objects.get(pk=node_b.pk).serial >= serial,
                5,
                "node B's index to apply the import",
                everything,
            )
            control(do="match", item=second.pk)
            wait_until(
                lambda: Match.objects.filter(media_item=second).exists(),
                5 - (time.monotonic() - imported_at) + applied,
                "node B to match the new entry",
                everything,
            )
            assert time.monotonic() - imported_at <= 5 + 1  # the control's own round trips
            assert not (tmp_path / "node-b" / "index" / "pdq" / "g000002").exists()  # no rebuild

            # 3. Node A dies in the middle of crawls; node B finishes them, each once.
            urls = [site.url(f"/slow/{n}") for n in range(3, 3 + SLOW_PAGES)]
            control(do="report", hotline=hotline.pk, urls=urls)
            slow_done = ReportedUrl.objects.filter(
                url__contains="/slow/", state=UrlState.AWAITING_ASSESSMENT
            )
            wait_until(lambda: slow_done.count() >= 2, 120, "the first slow crawls", everything)
            kill_group(node_a)
            assert slow_done.count() < SLOW_PAGES, "node A finished everything before it died"
            # A crawl node A was running stays "running" until it is STALE_SECONDS (10 min)
            # old; then the crawl sweep gives it to another worker. Those 10 minutes pass here.
            CrawlRun.objects.filter(state=CrawlState.RUNNING).update(
                updated_at=timezone.now() - timedelta(seconds=STALE_SECONDS + 1)
            )
            processes.append(
                start_openhotline([*worker, "crawl", "--hostname", "b2@test"], env_b, logs["b2"])
            )
            wait_until(lambda: slow_done.count() == SLOW_PAGES, 240, "node B to finish", everything)
            wait_until(
                lambda: hashed.count() == 2 + SLOW_PAGES, 120, "every picture hashed", everything
            )
        finally:
            if control is not None:
                kill_group(control.proc)  # type: ignore[arg-type]
            for proc in processes:
                kill_group(proc)
            broker.kill()
        fetched = Counter(path for path, _ in site.requests if path.startswith("/img/"))

    runs = CrawlRun.objects.filter(reported_url__url__contains="/slow/")
    assert set(runs.values_list("state", flat=True)) == {CrawlState.DONE}
    assert runs.count() == SLOW_PAGES
    items = MediaItem.objects.all()
    assert items.count() == 2 + SLOW_PAGES
    links = Counter(UrlMedia.objects.values_list("reported_url_id", "media_item_id"))
    assert set(links.values()) == {1}
    # One encrypted blob per content (the pictures and the pages' captures) in the
    # shared bucket, whichever machine fetched it and however often.
    listing = s3_server.client().list_objects_v2(Bucket=s3_bucket, Prefix="evidence/")
    keys = [obj["Key"] for obj in listing.get("Contents", [])]
    blobs = [key.rsplit("/", 1)[1] for key in keys if "/named/" not in key]
    assert sorted(blobs) == sorted(Blob.objects.values_list("name", flat=True))
    assert set(items.values_list("blob__name", flat=True)) <= set(blobs)
    assert len(keys) < 1000  # one listing page holds them all
    assert set(fetched) >= {f"/img/{n}.png" for n in (0, 1, *range(3, 3 + SLOW_PAGES))}
