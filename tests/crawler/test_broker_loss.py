"""Broker loss: Redis restarted (without persistence) while 100 crawls are queued.

Real processes: a redis-server the test kills and starts again, two
`openhotline worker` processes (one with beat, whose sweep re-queues what
the broker lost), real crawls of a loopback website. Every URL is crawled
exactly once in effect: one finished run, one fetch of its page, one
"crawl.finished" audit event.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import redis

from openhotline.accounts.actions import do_create_organisation
from openhotline.audit.models import AuditEvent
from openhotline.crawler.models import CrawlRun, CrawlState
from openhotline.reports.models import ReportedUrl, UrlState
from tests.conftest import missing_service
from tests.support.loopback import reply, serve
from tests.support.services import RedisProcess, kill_group, openhotline_env, start_openhotline

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

URLS = 100


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, log: Path, poll: float = 0.3
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(
        f"timed out after {timeout} s waiting for {what}\n{log.read_text()[-4000:]}"
    )


def slow_page(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(0.2)  # long enough that most crawls are still queued when the broker goes
    reply(handler, f"<html><title>{handler.path}</title><p>nothing here</p></html>".encode())


@pytest.mark.timeout(280)
def test_crawls_lost_with_the_broker_are_swept_back_and_done_once(tmp_path: Path) -> None:
    broker = RedisProcess(tmp_path)
    if broker.binary is None or not broker.start():
        missing_service("redis-server (Debian package redis-server)")
    hotline = do_create_organisation("Hotline A", "hotline", "DK")
    env = openhotline_env(
        tmp_path / "data",
        CELERY_BROKER_URL=broker.url,
        OPENHOTLINE_VISIBILITY_TIMEOUT="60",
        OPENHOTLINE_FETCH_ALLOW="127.0.0.1",
        OPENHOTLINE_RDAP_CLIENT="",
        OPENHOTLINE_CRAWL_RENDER="off",
        OPENHOTLINE_CRAWL_RETRY_SECONDS="1",
        OPENHOTLINE_CRAWL_PER_HOST="3",
        # The operator's knobs for the sweep, shortened: every 2 s, for URLs
        # and queued crawls untouched for 8 s.
        OPENHOTLINE_CRAWL_SWEEP_SECONDS="2",
        OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS="8",
    )
    log = tmp_path / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    with serve({"/p/*": slow_page}) as site:
        try:
            # 1. 100 reports through intake, whose crawls wait in the Redis queue; then workers.
            script = (
                "from openhotline.accounts.models import Organisation\n"
                "from openhotline.reports.actions import do_file_report\n"
                f"hotline = Organisation.objects.get(pk={hotline.pk})\n"
                f"for n in range({URLS}):\n"
                f"    url = '{site.url('/p/')}' + str(n)\n"
                "    do_file_report(hotline, source='partner', urls=[url])\n"
            )
            subprocess.run(
                [sys.executable, "-m", "openhotline", "shell", "-c", script],
                env=env,
                check=True,
                timeout=120,
            )
            assert redis.Redis.from_url(broker.url).llen("crawl") == URLS
            args = ["worker", "--queues", "crawl,media,default", "--concurrency", "2"]
            workers.append(start_openhotline([*args, "--hostname", "one@test", "--beat"], env, log))
            workers.append(start_openhotline([*args, "--hostname", "two@test"], env, log))
            finished = ReportedUrl.objects.filter(state=UrlState.AWAITING_ASSESSMENT)
            wait_until(lambda: finished.count() >= 3, 90, "the first crawls", log, poll=0.05)

            # 2. The broker dies with most crawls still queued, and comes back empty.
            # A marker key shows that it lost everything; the queue itself may
            # already hold a message again, put back by a reconnected worker.
            redis.Redis.from_url(broker.url).set("before-the-loss", 1)
            broker.kill()
            done_at_loss = finished.count()
            time.sleep(3)
            assert broker.start()
            assert not redis.Redis.from_url(broker.url).exists("before-the-loss")
            assert done_at_loss < URLS - 20, "the queue drained before the broker was lost"

            # 3. The sweep queues what was lost; every URL is crawled.
            wait_until(lambda: finished.count() == URLS, 200, "every crawl to finish", log)
            time.sleep(5)  # more sweeps and any late duplicate delivery
        finally:
            for worker in workers:
                kill_group(worker)
            broker.kill()
        fetched = Counter(path for path, _ in site.requests if path.startswith("/p/"))

    # 4. Exactly once in effect.
    assert ReportedUrl.objects.filter(state=UrlState.AWAITING_ASSESSMENT).count() == URLS
    runs = CrawlRun.objects.all()
    assert runs.count() == URLS
    assert set(runs.values_list("state", flat=True)) == {CrawlState.DONE}
    assert set(runs.values_list("attempts", flat=True)) == {1}
    assert sorted(fetched) == sorted(f"/p/{n}" for n in range(URLS))
    assert set(fetched.values()) == {1}, {p: c for p, c in fetched.items() if c > 1}
    finishes = Counter(
        AuditEvent.objects.filter(action="crawl.finished").values_list("object_id", flat=True)
    )
    assert len(finishes) == URLS and set(finishes.values()) == {1}
