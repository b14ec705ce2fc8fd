"""Exactly one beat: two real workers started with --beat, one schedule.

Both workers run the leader scheduler (``openhotline.ops.beat``); only the
holder of the lock (an advisory lock on PostgreSQL, a file lock beside the
SQLite database) sends the periodic tasks. When the leader is killed, the
other takes over. The beat of a worker killed alone (SIGKILL, as the OOM
killer does) stops with it, so the next worker's beat leads.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connection

from openhotline.ops.beat import ADVISORY_KEY, LEADER_CHECK_SECONDS, LeaderLock
from tests.support.services import kill_group, openhotline_env, start_openhotline

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SENT = "Sending due task audit-write-checkpoint"
PERIOD = 1.0


def sends(log: Path) -> int:
    return log.read_text(errors="replace").count(SENT) if log.exists() else 0


def lock_holders() -> list[str]:
    """The processes with the SQLite beat lock file open (what a leftover would show)."""
    if connection.vendor == "postgresql":
        return [LeaderLock().holder()]
    name = Path(connection.settings_dict["NAME"])
    lock = str(name.with_name(name.name + ".beat-lock"))
    found = []
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) == lock:
                pid = fd.parts[2]
                found.append(
                    f"{pid}: {Path(f'/proc/{pid}/cmdline').read_text().replace(chr(0), ' ')}"
                )
        except OSError:
            continue
    return found


def wait_for(log: Path, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sends(log) >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError(
        f"{log.name}: {sends(log)} sends after {timeout} s; the lock file is open in "
        f"{lock_holders()}\n{log.read_text()[-3000:]}"
    )


@pytest.mark.timeout(240)
def test_two_beat_workers_send_each_periodic_task_once_per_period(tmp_path: Path) -> None:
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    workers = []
    try:
        for n, log in enumerate(logs):
            env = openhotline_env(
                tmp_path / f"node{n}",
                CELERY_BROKER_URL=broker,
                OPENHOTLINE_AUDIT_CHECKPOINT_SECONDS=str(PERIOD),
            )
            args = ["worker", "--queues", "beat-test-unused", "--concurrency", "1", "--beat"]
            workers.append(start_openhotline([*args, "--hostname", f"beat{n}@test"], env, log))
            if n == 0:
                wait_for(log, 1, 90)  # the first is the leader before the second starts
        time.sleep(8)  # the second has started and tried for the lock a few times
        before = [sends(log) for log in logs]
        window = 10.0
        time.sleep(window)
        during = [sends(log) - b for log, b in zip(logs, before, strict=True)]
        # One schedule: the leader sends about once per period, the other nothing.
        assert during[1] == 0, during
        assert window / PERIOD * 0.5 <= during[0] <= window / PERIOD + 2, during

        # The leader dies: the other takes over within a few tries.
        kill_group(workers[0])
        taken = sends(logs[1])
        wait_for(logs[1], taken + 3, 60)
    finally:
        for worker in workers:
            kill_group(worker)


@pytest.mark.timeout(300)
def test_the_beat_of_a_killed_worker_stops_and_the_next_worker_leads(tmp_path: Path) -> None:
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    logs = [tmp_path / "killed.log", tmp_path / "next.log"]
    args = ["worker", "--queues", "beat-test-unused", "--concurrency", "1", "--beat"]
    workers = []
    try:
        env = openhotline_env(
            tmp_path / "node0",
            CELERY_BROKER_URL=broker,
            OPENHOTLINE_AUDIT_CHECKPOINT_SECONDS=str(PERIOD),
        )
        workers.append(start_openhotline([*args, "--hostname", "killed@test"], env, logs[0]))
        wait_for(logs[0], 1, 90)
        # The worker alone, not its process group: its beat child is left behind.
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=30)
        time.sleep(LEADER_CHECK_SECONDS + 3)
        settled = sends(logs[0])
        time.sleep(4 * PERIOD)
        assert sends(logs[0]) == settled, "the killed worker's beat still sends"
        assert "this beat stops" in logs[0].read_text(errors="replace")

        env = {**env, "OPENHOTLINE_DATA": str(tmp_path / "node1")}
        workers.append(start_openhotline([*args, "--hostname", "next@test"], env, logs[1]))
        wait_for(logs[1], 3, 90)  # the lock was free: the next worker's beat leads
    finally:
        for worker in workers:
            kill_group(worker)  # the group: a beat left behind by a failure goes too


def test_a_waiting_beat_names_the_holder_of_the_lock() -> None:
    if connection.vendor != "postgresql":
        lock = LeaderLock()
        assert lock.hold()  # SQLite: a file lock beside the database
        try:
            assert str(connection.settings_dict["NAME"]) + ".beat-lock" in LeaderLock().holder()
            assert not LeaderLock().hold()  # a second open file: flock refuses it
        finally:
            lock.release()
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s), pg_backend_pid()", [ADVISORY_KEY])
        won, pid = cursor.fetchone()
    assert won
    try:
        other = LeaderLock()
        assert not other.hold()
        assert f"PostgreSQL backend {pid} " in other.holder()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
    assert "nobody" in LeaderLock().holder()
