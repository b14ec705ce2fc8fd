"""Only whole media are evidence: bombs, cut-short files, the byte budget, the storage alarm.

Sites are served on 127.0.0.1 by the tests. The memory test crawls in a
separate process and reads that process's own peak RSS.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.crawler.models import CrawlState
from openhotline.evidence.actions import do_check_storage
from openhotline.evidence.models import MediaItem, StorageAlarm
from tests.crawler.conftest import file_url, media, page, png, run
from tests.support.loopback import LoopbackServer, reply

pytestmark = pytest.mark.django_db

# The probe's bombs: a PNG header and 60 MiB of zeros, gzip'ed to ~60 KB, sent
# with Content-Encoding: gzip.
PNG_GZIP_BOMB = gzip.compress(png()[:33] + b"\0" * (60 * 1024 * 1024), 9)


def bomb_site(web: LoopbackServer, count: int = 8) -> None:
    web.routes["/"] = page("".join(f'<img src="/bomb{n}.png">' for n in range(count)))
    web.routes["/bomb*"] = lambda h: reply(
        h, PNG_GZIP_BOMB, headers={"Content-Encoding": "gzip"}, content_type="image/png"
    )


def test_gzip_bombs_with_a_png_header_are_errors_with_sizes_and_nothing_is_stored(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    # The limits of a real installation, not the short ones of the other crawler tests.
    settings.OPENHOTLINE_CRAWL_MEDIA_MAX_BYTES = 50 * 1024 * 1024
    settings.OPENHOTLINE_CRAWL_DECODED_MAX_BYTES = 60 * 1024 * 1024
    bomb_site(web)

    crawl = run(file_url(hotline_a, web.url("/")))

    assert crawl.state == CrawlState.DONE and crawl.media_stored == 0
    assert not MediaItem.objects.exists()
    assert len(crawl.errors) == 8
    for error in crawl.errors:
        assert (error["stage"], error["error"]) == ("media", "FetchTooLarge")
        assert "decompression bomb" in error["message"]
        received = re.search(r"received (\d+) bytes", error["message"])
        assert received is not None and 0 < int(received[1]) <= len(PNG_GZIP_BOMB)
        assert f"limit {50 * 1024 * 1024} bytes" in error["message"]
        assert f"declared length {len(PNG_GZIP_BOMB)} bytes" in error["message"]


def test_media_past_the_crawls_byte_budget_are_skipped_with_the_reason(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_CRAWL_BYTE_BUDGET = 1024 * 1024
    settings.OPENHOTLINE_CRAWL_THREADS = 1
    web.routes["/"] = page("".join(f'<img src="/i/{n}.png">' for n in range(6)))
    web.routes["/i/*"] = lambda h: reply(
        h, png()[:33] + os.urandom(400_000) + h.path.encode(), content_type="image/png"
    )

    crawl = run(file_url(hotline_a, web.url("/")))

    assert crawl.state == CrawlState.DONE and crawl.media_stored == 3
    [limit] = [e for e in crawl.errors if e["stage"] == "limit"]
    assert "byte budget of 1048576 bytes used up" in limit["message"]
    assert len(web.requests) == 4


def test_a_hotline_past_its_storage_threshold_gets_one_alarm_its_admins_see(
    hotline_a: Organisation,
    web: LoopbackServer,
    settings: SettingsWrapper,
    admin: User,
    analyst: User,
    outsider: User,
    as_user: Callable[[User], Client],
) -> None:
    settings.OPENHOTLINE_EVIDENCE_ALARM_BYTES = 1000
    web.routes["/"] = page('<img src="/a.png"><img src="/b.png">')
    web.routes["/a.png"] = media(png("red", size=(40, 40)) + b"a" * 600)
    web.routes["/b.png"] = media(png("blue", size=(40, 40)) + b"b" * 600)

    run(file_url(hotline_a, web.url("/")))
    do_check_storage(hotline_a)  # a second check raises nothing new

    alarm = StorageAlarm.objects.get(hotline=hotline_a)
    used = sum(MediaItem.objects.values_list("size", flat=True))
    assert alarm.bytes_stored == used > 1000 and alarm.threshold == 1000
    raised = AuditEvent.objects.filter(action="evidence.storage_alarm_raised")
    assert raised.count() == 1 and raised.get().organisation == hotline_a
    page_html = as_user(admin).get(f"/app/media/storage/{hotline_a.slug}/")
    assert page_html.status_code == 200
    assert b'id="storage-alarm"' in page_html.content and b"Storage alarm" in page_html.content
    for stranger in (analyst, outsider):
        assert as_user(stranger).get(f"/app/media/storage/{hotline_a.slug}/").status_code == 404

    settings.OPENHOTLINE_EVIDENCE_ALARM_BYTES = 10 * 1024 * 1024
    assert do_check_storage(hotline_a) is None
    assert not StorageAlarm.objects.exists()
    assert AuditEvent.objects.filter(action="evidence.storage_alarm_cleared").count() == 1
    calm = as_user(admin).get(f"/app/media/storage/{hotline_a.slug}/")
    assert b'id="storage-alarm"' not in calm.content


def test_under_the_threshold_there_is_no_alarm(
    hotline_a: Organisation, web: LoopbackServer, admin: User, as_user: Callable[[User], Client]
) -> None:
    web.routes["/"], web.routes["/a.png"] = page('<img src="/a.png">'), media(png())
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.media_stored == 1
    assert not StorageAlarm.objects.exists()
    response = as_user(admin).get(f"/app/media/storage/{hotline_a.slug}/")
    assert response.status_code == 200 and b'id="storage-alarm"' not in response.content


# Runs in the child: `openhotline crawl` (the engine, limits and policy of the
# crawl task), then the child's own peak RSS.
CHILD = textwrap.dedent(
    """
    import json, sys
    from openhotline.cli import main
    code = main(["openhotline", "crawl", sys.argv[1], "--json", "--quiet", "--no-trace"])
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps({"peak_mib": round(peak, 1), "code": code}), file=sys.stderr)
    """
)


def test_a_crawl_of_eight_bombs_stays_under_256_mib(web: LoopbackServer, tmp_path: Path) -> None:
    bomb_site(web)
    env = {
        **os.environ,
        "OPENHOTLINE_DATA": str(tmp_path),
        "OPENHOTLINE_FETCH_ALLOW": "127.0.0.1",
        "OPENHOTLINE_CRAWL_RENDER": "off",
        "OPENHOTLINE_RDAP_CLIENT": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, web.url("/")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    figures = json.loads(done.stderr.strip().splitlines()[-1])
    print(f"crawl of eight bombs: {figures}")
    output = json.loads(done.stdout)
    assert [m["truncated"] for m in output["media"]] == [True] * 8
    assert figures["peak_mib"] < 256
