"""Notices are delivered once: through an SMTP outage, and with several senders at once.

Real processes: `openhotline worker --beat` on a real Redis broker sends the
notices on its schedule while the SMTP server (aiosmtpd) is down, then up;
several `openhotline takedown send` processes race. The effect asserted is
what the SMTP server received: one mail per contact, each URL in one mail.
"""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from openhotline.accounts.models import Organisation, User
from openhotline.reports.models import ReportedUrl, UrlState
from openhotline.takedown.models import Notice, NoticeState, TakedownCase
from tests.conftest import missing_service
from tests.network.conftest import AssessFn
from tests.support.services import (
    free_port,
    kill_group,
    openhotline_env,
    redis_server,
    start_openhotline,
)
from tests.takedown.conftest import SMTP_PASSWORD, SMTP_USER, Internet, Mailbox
from tests.takedown.test_notices import illegal_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    tail = log.read_text()[-4000:] if log.exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")


class SmtpSink:
    """aiosmtpd on a fixed loopback port that the test switches off and on."""

    def __init__(self) -> None:
        self.box = Mailbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.box,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.box.authenticate,
            auth_required=True,
            auth_require_tls=False,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def urls_mailed(self) -> Counter[str]:
        """How many mails named each URL."""
        seen: Counter[str] = Counter()
        for _, _, raw in self.box.messages:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            text = ""
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    payload = part.get_payload(decode=True)
                    assert isinstance(payload, bytes)
                    text = payload.decode(part.get_content_charset() or "utf-8")
            for url in ReportedUrl.objects.values_list("url", flat=True):
                if url in text:
                    seen[url] += 1
        return seen


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    try:
        yield server
    finally:
        server.stop()


def process_env(tmp_path: Path, internet: Internet, sink: SmtpSink, **extra: str) -> dict[str, str]:
    """The test's loopback internet and SMTP server, for openhotline processes."""
    return openhotline_env(
        tmp_path / "data",
        OPENHOTLINE_FETCH_ALLOW="127.0.0.1",
        OPENHOTLINE_DNS_SERVERS=f"{internet.dns.host}:{internet.dns.port}",
        OPENHOTLINE_RDAP_CLIENT="openhotline.crawler.rdap.RdapClient",
        OPENHOTLINE_RDAP_BOOTSTRAP_URL=internet.rdap.url("/bootstrap/"),
        OPENHOTLINE_GEOIP_MMDB=str(settings.OPENHOTLINE_GEOIP_MMDB),
        OPENHOTLINE_CDN_RANGES_DIR=str(settings.OPENHOTLINE_CDN_RANGES_DIR),
        OPENHOTLINE_MAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        OPENHOTLINE_SMTP_HOST="127.0.0.1",
        OPENHOTLINE_SMTP_PORT=str(sink.port),
        OPENHOTLINE_SMTP_SECURITY="none",
        OPENHOTLINE_SMTP_USER=SMTP_USER,
        OPENHOTLINE_SMTP_PASSWORD=SMTP_PASSWORD,
        OPENHOTLINE_SMTP_TIMEOUT="5",
        **extra,
    )


@pytest.fixture
def due_cases(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    approve_all: Any,
) -> list[ReportedUrl]:
    """Six illegal URLs owed a first notice: four at one hoster, two at another."""
    internet.point("other.site.test", "127.0.0.9")
    urls = [
        illegal_url(hotline_a, analyst, assess, f"http://gallery.site.test/{n}", n)
        for n in range(1, 5)
    ]
    urls += [
        illegal_url(hotline_a, analyst, assess, f"http://other.site.test/{n}", n)
        for n in range(5, 7)
    ]
    approve_all()
    assert TakedownCase.objects.filter(notices_sent=0).count() == 6
    return urls


@pytest.fixture
def approve_all(admin: User) -> Any:
    from tests.takedown.test_notices import approve_all as fixture

    return fixture.__wrapped__(admin)  # type: ignore[attr-defined]


def assert_each_url_mailed_once(sink: SmtpSink, urls: list[ReportedUrl]) -> None:
    assert sorted(tuple(rcpt) for _, rcpt, _ in sink.box.messages) == [
        ("abuse@hoster.test",),
        ("abuse@other.test",),
    ]
    assert sink.urls_mailed() == Counter({url.url: 1 for url in urls})
    for url in urls:
        url.refresh_from_db()
        assert url.state == UrlState.NOTICE_SENT
    assert set(TakedownCase.objects.values_list("notices_sent", flat=True)) == {1}
    assert Notice.objects.filter(state=NoticeState.SENT).count() == 2


@pytest.mark.timeout(240)
def test_notices_due_while_smtp_is_down_are_sent_once_it_is_back(
    tmp_path: Path, internet: Internet, sink: SmtpSink, due_cases: list[ReportedUrl]
) -> None:
    with redis_server(tmp_path) as broker:
        if broker is None:
            missing_service("redis-server (Debian package redis-server)")
        assert broker is not None
        env = process_env(
            tmp_path,
            internet,
            sink,
            CELERY_BROKER_URL=broker,
            # The operator's batch interval, shortened to 2 s.
            OPENHOTLINE_NOTICE_BATCH_MINUTES="0.033",
        )
        log = tmp_path / "worker.log"
        args = ["worker", "--queues", "default,crawl", "--concurrency", "2", "--beat"]
        worker = start_openhotline(args, env, log)
        try:
            # 1. The SMTP server is down: runs fail and nothing is marked sent.
            failed = Notice.objects.filter(state=NoticeState.FAILED)
            wait_until(lambda: failed.count() >= 4, 90, "two failed runs", log)
            assert TakedownCase.objects.filter(notices_sent=0).count() == 6
            # 2. It comes back: the next run sends each notice, and later runs nothing more.
            sink.start()
            sent = Notice.objects.filter(state=NoticeState.SENT)
            wait_until(lambda: sent.count() == 2, 90, "the notices to be sent", log)
            time.sleep(6)  # three more runs
        finally:
            kill_group(worker)
    assert_each_url_mailed_once(sink, due_cases)


@pytest.mark.timeout(240)
def test_senders_running_at_once_send_each_notice_once(
    tmp_path: Path, internet: Internet, sink: SmtpSink, due_cases: list[ReportedUrl]
) -> None:
    sink.start()
    env = process_env(tmp_path, internet, sink)
    senders = [
        subprocess.Popen(
            [sys.executable, "-m", "openhotline", "takedown", "send"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=120)[0].decode() for proc in senders]
    assert all(proc.returncode == 0 for proc in senders), outputs
    assert_each_url_mailed_once(sink, due_cases)


def test_a_run_while_another_holds_the_lease_sends_nothing(
    sink: SmtpSink, due_cases: list[ReportedUrl]
) -> None:
    from openhotline.crawler import hostslots
    from openhotline.takedown.actions.notices import RUN_LOCK, send_due_notices

    lease = hostslots.acquire(RUN_LOCK, 1, 60)
    assert lease is not None
    run = send_due_notices()
    assert run.busy and run.sent == [] and Notice.objects.count() == 0
    hostslots.release(lease)
