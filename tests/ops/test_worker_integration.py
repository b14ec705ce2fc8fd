"""A real Redis broker and separate `openhotline worker` processes.

A queued task completes; a worker killed in the middle of a task has it
redelivered to a new worker, and the task's effect happens exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openhotline.audit.models import AuditEvent
from openhotline.ops.models import SelfCheck
from tests.conftest import missing_service
from tests.support.services import kill_group, openhotline_env, redis_server, start_openhotline

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("OPENHOTLINE_TEST_REDIS_URL"):
        yield os.environ["OPENHOTLINE_TEST_REDIS_URL"]
        return
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        if url is None:
            missing_service("redis-server (Debian package redis-server)")
        assert url is not None
        yield url


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_killed_worker_task_is_redelivered_and_done_once(redis_url: str, tmp_path: Path) -> None:
    env = openhotline_env(
        tmp_path / "data", CELERY_BROKER_URL=redis_url, OPENHOTLINE_VISIBILITY_TIMEOUT="3"
    )
    log = tmp_path / "workers.log"
    worker_args = ["worker", "--queues", "default", "--concurrency", "1", "--loglevel", "WARNING"]
    first = start_openhotline([*worker_args, "--hostname", "first@test"], env, log)
    second = None
    try:
        # 1. A queued task completes, through the operator's own command.
        done = subprocess.run(
            [sys.executable, "-m", "openhotline", "selfcheck", "--wait", "60"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr + log.read_text()
        assert "completed by first@test after 1 delivery" in done.stdout

        # 2. A long task: kill its worker in the middle.
        queued = subprocess.run(
            [sys.executable, "-m", "openhotline", "selfcheck", "--hold", "6", "--no-wait"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        code = queued.stdout.strip()
        wait_until(lambda: SelfCheck.objects.get(code=code).attempts == 1, 60, "the first delivery")
        kill_group(first)
        assert SelfCheck.objects.get(code=code).completed_at is None

        # 3. A new worker gets it again and completes it.
        second = start_openhotline([*worker_args, "--hostname", "second@test"], env, log)
        wait_until(lambda: SelfCheck.objects.get(code=code).is_done(), 90, "the redelivery")
        check = SelfCheck.objects.get(code=code)
        assert check.attempts == 2
        assert check.completed_by == "second@test"
        events = AuditEvent.objects.filter(action="selfcheck.completed", object_id=code)
        assert events.count() == 1
        # The second worker keeps running: nothing completes it a second time.
        time.sleep(4)
        assert AuditEvent.objects.filter(action="selfcheck.completed", object_id=code).count() == 1
    finally:
        kill_group(first)
        if second is not None:
            kill_group(second)
