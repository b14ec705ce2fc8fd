"""`openhotline crawl URL --json`: one crawl in the foreground, printed, nothing stored."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.crawler.conftest import GALLERY, gallery, png
from tests.support.loopback import LoopbackServer


def test_it_prints_page_evidence_hosting_and_every_media_item(web: LoopbackServer) -> None:
    gallery(web)
    out = io.StringIO()
    call_command("crawl", web.url("/"), "--json", "--quiet", stdout=out)
    data = json.loads(out.getvalue())
    page = data["pages"][0]
    assert (page["status"], page["title"], page["address"]) == (200, "Gallery", "127.0.0.1")
    assert page["sha256"] == hashlib.sha256(GALLERY.encode()).hexdigest()
    media = {m["url"].rsplit("/", 1)[1]: m for m in data["media"]}
    assert sorted(media) == ["a.png", "b.png", "c.png"]
    for name, color in (("a", "red"), ("b", "green"), ("c", "blue")):
        item, body = media[f"{name}.png"], png(color)
        assert (item["size"], item["mime"], item["sha256"]) == (
            len(body),
            "image/png",
            hashlib.sha256(body).hexdigest(),
        )
    assert data["hosting"]["address"] == "127.0.0.1" and data["errors"] == []


def test_a_refused_url_fails_with_the_reason(inner: LoopbackServer) -> None:
    with pytest.raises(CommandError, match="FetchRefused: 127.0.0.2 is a loopback address") as info:
        call_command("crawl", inner.url("/"), "--json", "--quiet", stdout=io.StringIO())
    assert info.value.returncode == 1 and inner.requests == []


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OPENHOTLINE_DATA": str(tmp_path),
        "OPENHOTLINE_FETCH_ALLOW": "127.0.0.1",
        "OPENHOTLINE_CRAWL_RENDER": "off",
        "OPENHOTLINE_RDAP_CLIENT": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "openhotline", "crawl", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_line_shows_progress_and_exits_by_outcome(
    tmp_path: Path, web: LoopbackServer, inner: LoopbackServer
) -> None:
    gallery(web)
    done = cli(tmp_path, web.url("/"), "--json")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["media"]) == 3
    assert "crawling: 1 pages, 3 media found, 3 fetched" in done.stderr
    refused = cli(tmp_path, inner.url("/"), "--json")
    assert refused.returncode == 1
    assert "127.0.0.2 is a loopback address" in refused.stderr
    assert json.loads(refused.stdout)["errors"][0]["error"] == "FetchRefused"
    assert inner.requests == []
