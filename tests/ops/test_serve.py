"""`openhotline serve` and `openhotline demo` as an operator runs them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.support.services import free_port, kill_group, openhotline_env, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_answers_and_ctrl_c_stops_web_server_and_worker(tmp_path: Path) -> None:
    port = free_port()
    env = openhotline_env(tmp_path / "data")
    # Output to a file, not a pipe nobody reads: a full pipe would block the
    # web server in the middle of writing its access log.
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openhotline", "serve", "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_for_port(port, timeout=60), "the web server did not start"
        assert get(f"http://127.0.0.1:{port}/healthz") == (200, b"ok\n")
        # The embedded worker reports in: /readyz turns ready.
        deadline = time.monotonic() + 60
        while get(f"http://127.0.0.1:{port}/readyz")[0] != 200:
            assert time.monotonic() < deadline, "no worker heartbeat"
            time.sleep(0.5)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"left running: {[p.pid for p in alive]}"
    finally:
        # The whole process group: a failed test must not leave the web
        # server and the worker running (they hold database connections).
        kill_group(proc)
        log.close()


def test_demo_sets_up_organisations_users_and_reports(tmp_path: Path) -> None:
    site_port = free_port()
    env = openhotline_env(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "openhotline", "demo", "--no-serve", "--site-port", str(site_port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for username in ("analyst", "senior", "admin", "police", "interpol", "isp", "partner"):
        assert f"  {username} " in result.stdout
    assert "Reports filed now: 4" in result.stdout
    from openhotline.accounts.models import Organisation
    from openhotline.reports.models import ReportedUrl

    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert kinds == {"hotline", "lea", "interpol", "isp", "partner"}
    # The demo's websites by their names (its DNS server answers for them when it serves).
    assert ReportedUrl.objects.filter(url__contains=f".test:{site_port}/").count() == 5
    assert (
        ReportedUrl.objects.filter(url__contains=f"faraway-hosting.test:{site_port}/").count() == 1
    )
