"""Readiness checks: the database, the broker, a live worker, and the PDQ index replicas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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


def index_replicas() -> list[dict[str, object]]:
    """Each worker machine's PDQ index: its serial, how many changes and seconds it lags.

    Machines whose worker has not reported for OPENHOTLINE_WORKER_STALE_SECONDS
    are left out (stopped, or gone). ``lag_seconds`` is the age of the oldest
    change the machine has not applied (0 when it is current).
    """
    from django.utils import timezone

    from openhotline.matching.changelog import latest_serial
    from openhotline.matching.models import IndexChange, IndexReplica

    latest = latest_serial()
    since = timezone.now() - timedelta(seconds=settings.OPENHOTLINE_WORKER_STALE_SECONDS)
    replicas = []
    for replica in IndexReplica.objects.filter(updated_at__gte=since).order_by("node"):
        oldest = (
            IndexChange.objects.filter(serial__gt=replica.serial)
            .order_by("serial")
            .values_list("created_at", flat=True)
            .first()
        )
        lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        replicas.append(
            {
                "node": replica.node,
                "serial": replica.serial,
                "lag_changes": max(0, latest - replica.serial),
                "lag_seconds": round(max(0.0, lag), 1),
                "reported_at": replica.updated_at.isoformat(),
            }
        )
    return replicas


def is_behind(replica: dict[str, object]) -> bool:
    """True when this machine misses changes older than OPENHOTLINE_INDEX_MAX_LAG_SECONDS."""
    return float(str(replica["lag_seconds"])) > settings.OPENHOTLINE_INDEX_MAX_LAG_SECONDS


def check_index(replicas: list[dict[str, object]]) -> Check:
    """Unready when a worker machine's index misses changes older than the allowed lag."""
    limit = settings.OPENHOTLINE_INDEX_MAX_LAG_SECONDS
    behind = [r for r in replicas if is_behind(r)]
    if behind:
        names = ", ".join(f"{r['node']} ({r['lag_changes']} changes)" for r in behind)
        return Check(
            "index", False, f"PDQ index behind the change log by over {limit:g} s: {names}"
        )
    return Check("index", True, f"{len(replicas)} machines current")


def readiness() -> list[Check]:
    database = check_database()
    checks = [database, check_broker()]
    if database.ok:
        checks.append(check_worker())
        try:
            checks.append(check_index(index_replicas()))
        except Exception as exc:
            checks.append(Check("index", False, f"cannot read the index replicas: {exc}"))
    return checks


def hosting_data() -> tuple[list[dict[str, object]], list[str]]:
    """Each hosting data set's date, and a warning per set older than STALE_DAYS.

    Old data is a warning, not unreadiness: the trace still works, only its
    CDN and AS answers may be out of date (docs/operations.md).
    """
    from openhotline.crawler.hostingdata import STALE_DAYS
    from openhotline.crawler.hostingstatus import every_dataset

    try:
        status = every_dataset()
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
