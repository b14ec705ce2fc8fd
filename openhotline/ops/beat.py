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
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any

from celery.beat import PersistentScheduler
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

# Any constant nothing else uses as an advisory lock key ("BEAT").
ADVISORY_KEY = 0x42454154
RETRY_SECONDS = 2.0


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
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.leader.hold():
            return RETRY_SECONDS
        return float(super().tick(*args, **kwargs))

    def close(self) -> None:
        super().close()
        self.leader.release()
