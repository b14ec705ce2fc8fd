"""Readiness checks: the database, the broker and a live worker."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection


@dataclass
class Check:
    name: str
    ok: bool
    reason: str = ""


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return Check("database", False, f"database unreachable: {exc}")
    return Check("database", True)


def check_broker(timeout: int = 2) -> Check:
    from openhotline.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        return Check("broker", False, f"broker unreachable: {exc}")
    return Check("broker", True)


def check_worker() -> Check:
    from openhotline.ops.models import WorkerHeartbeat

    stale = settings.OPENHOTLINE_WORKER_STALE_SECONDS
    try:
        live = WorkerHeartbeat.live(stale).count()
    except Exception as exc:
        return Check("worker", False, f"cannot read worker heartbeats: {exc}")
    if not live:
        return Check("worker", False, f"no worker heartbeat in the last {stale} s")
    return Check("worker", True, f"{live} live")


def readiness() -> list[Check]:
    database = check_database()
    checks = [database, check_broker()]
    if database.ok:
        checks.append(check_worker())
    return checks


def hosting_data() -> tuple[list[dict[str, object]], list[str]]:
    """Each hosting data set's date, and a warning per set older than STALE_DAYS.

    Old data is a warning, not unreadiness: the trace still works, only its
    CDN and AS answers may be out of date (docs/operations.md).
    """
    from openhotline.crawler.hostingdata import STALE_DAYS, dataset_status

    try:
        status = dataset_status(settings.OPENHOTLINE_CDN_RANGES_DIR)
    except Exception as exc:  # unreadable data must not fail the readiness probe
        return [], [f"hosting data unreadable: {type(exc).__name__}: {exc}"]
    warnings = [
        f"{item.name} ({item.origin}) is dated {item.as_of or 'unknown'},"
        f" older than {STALE_DAYS} days: refresh it with `openhotline crawler data update`"
        for item in status
        if item.stale
    ]
    sets = [
        {"name": s.name, "origin": s.origin, "as_of": s.as_of, "stale": s.stale} for s in status
    ]
    return sets, warnings
