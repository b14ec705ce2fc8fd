"""Exactly one beat in the cluster: the periodic schedule runs where the leader lock is.

Every worker started with ``--beat`` runs this scheduler, but only the one
holding the lock sends due tasks; the others check every
``RETRY_SECONDS`` and take over when the leader goes away. The lock lives
where every machine of an installation already meets, the database:

- PostgreSQL: a session advisory lock on a connection of its own, which the
  server releases the moment that connection ends (a killed or partitioned
  leader loses it with its connection);
- SQLite (one machine): an exclusive ``flock`` on a file beside the
  database file, released by the kernel when the process ends.

A new leader's schedule file (``celerybeat-schedule`` in its own data
directory) may find every sweep due at once: the sweeps are safe to run
again, so that costs one extra round and nothing else.

The beat of ``worker --beat`` is a child process of the worker. Celery's
pool children end with their parent, but its beat did not: a worker killed
with SIGKILL (the OOM killer, a supervisor's last resort) left its beat
running, still the leader, and the restarted worker's beat never led
(measured: the orphan went on sending, the new beat sent nothing). So an
embedded beat watches its parent and stops when the worker is gone, and a
leader looks at least every ``LEADER_CHECK_SECONDS``. A beat that cannot
lead for ``WAITING_WARN_SECONDS`` says so, and on PostgreSQL names the
holder, which is how a leftover process shows itself.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path
from typing import IO, Any

from celery import signals
from celery.beat import PersistentScheduler
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

# Any constant nothing else uses as an advisory lock key ("BEAT"). PostgreSQL keeps
# advisory locks per database, so installations on one server do not share it.
ADVISORY_KEY = 0x42454154
RETRY_SECONDS = 2.0
# The longest a leader sleeps between two looks at its lock and its parent.
LEADER_CHECK_SECONDS = 5.0
# A beat waiting this long for the lock logs a warning (again after as long).
WAITING_WARN_SECONDS = 120.0


class LeaderLock:
    """The cluster-wide beat lock, taken without waiting, held until the process ends."""

    def __init__(self) -> None:
        self._connection: Any = None
        self._file: IO[bytes] | None = None

    def hold(self) -> bool:
        """True while this process is the leader (tries to become it if not)."""
        base = connections[DEFAULT_DB_ALIAS]
        if base.vendor == "postgresql":
            return self._hold_advisory()
        return self._hold_file(Path(base.settings_dict["NAME"]))

    def _hold_advisory(self) -> bool:
        try:
            if self._connection is not None:
                with self._connection.cursor() as cursor:  # still alive, so still ours
                    cursor.execute("SELECT 1")
                return True
            connection = connections.create_connection(DEFAULT_DB_ALIAS)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
                won = bool(cursor.fetchone()[0])
            if won:
                self._connection = connection
                logger.info("beat: this process is the leader")
            else:
                connection.close()
            return won
        except Exception:
            logger.exception("beat: lost the database; no longer the leader")
            self.release()
            return False

    def holder(self) -> str:
        """Who holds the lock, as far as this process can tell (for the log)."""
        base = connections[DEFAULT_DB_ALIAS]
        if base.vendor != "postgresql":
            name = Path(base.settings_dict["NAME"])
            return f"a process with {name.with_name(name.name + '.beat-lock')} locked"
        # A connection of its own: the default one may be the worker's, inherited
        # over fork with its socket closed (Celery closes a beat child's descriptors).
        connection = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) AND l.classid = 0 AND l.objid = %s",
                    [ADVISORY_KEY],
                )
                row = cursor.fetchone()
        except Exception as exc:  # the log line must not take the beat down
            return f"unknown ({exc})"
        finally:
            connection.close()
        if row is None:
            return "nobody any more"
        pid, address, since = row
        return (
            f"PostgreSQL backend {pid} of a client at {address or 'a local socket'} since {since}"
        )

    def _hold_file(self, database: Path) -> bool:
        if self._file is not None:
            return True
        handle = open(database.with_name(database.name + ".beat-lock"), "a+b")  # noqa: SIM115
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        os.set_inheritable(handle.fileno(), False)
        self._file = handle
        logger.info("beat: this process is the leader")
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already gone; the server dropped the lock with it
                logger.debug("beat: closing the lock connection failed", exc_info=True)
            self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None


class LeaderScheduler(PersistentScheduler):
    """Celery's persistent scheduler, active only while it holds the leader lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.leader = LeaderLock()
        self.parent: int | None = None  # the worker's pid, when embedded in one
        self.waiting_since: float | None = None
        self.warned_at = 0.0
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self.parent is not None and os.getppid() != self.parent:
            logger.warning("beat: the worker %s is gone; this beat stops", self.parent)
            self.leader.release()
            raise SystemExit(0)  # Celery's beat loop stops on it and closes the schedule
        if not self.leader.hold():
            self._note_waiting()
            return RETRY_SECONDS
        self.waiting_since = None
        return min(float(super().tick(*args, **kwargs)), LEADER_CHECK_SECONDS)

    def _note_waiting(self) -> None:
        now = time.monotonic()
        if self.waiting_since is None:
            self.waiting_since, self.warned_at = now, now
        elif now - self.warned_at >= WAITING_WARN_SECONDS:
            self.warned_at = now
            logger.warning(
                "beat: not the leader for %.0f s; the lock is held by %s. No other worker "
                "of this installation started with --beat? Then that is a leftover process.",
                now - self.waiting_since,
                self.leader.holder(),
            )

    def close(self) -> None:
        super().close()
        self.leader.release()


@signals.beat_embedded_init.connect(dispatch_uid="openhotline.ops.beat.watch_parent")
def _watch_parent(sender: Any, **kwargs: Any) -> None:
    """A beat run inside ``worker --beat`` ends with that worker (see the module's text)."""
    scheduler = getattr(sender, "scheduler", None)
    if isinstance(scheduler, LeaderScheduler):
        scheduler.parent = os.getppid()
