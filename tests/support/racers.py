"""Several real OS processes that call the same function at the same moment.

Each racer is a process started with ``spawn`` (a fresh interpreter, its own
database connection) that sets Django up against the test database and then
waits for calls. ``Racers.run`` sends one call to every racer; they meet at
a barrier and then all call it together, so their transactions overlap on
the database. What each returns (or the traceback it raised) comes back.

Only PostgreSQL is worth racing: SQLite lets one writer at a time in.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

import pytest
from django.conf import settings

from tests.support.racer_process import serve
from tests.support.services import database_url

ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")

# The race tests: PostgreSQL only (SQLite serialises writers, so there is no race to lose).
postgres_only = pytest.mark.skipif(ON_SQLITE, reason="SQLite serialises writers: no race")


class RacerFailed(AssertionError):
    """A racer raised; the message is its traceback."""


class Racers:
    """``count`` processes on the test database; use as a context manager."""

    def __init__(self, count: int, data_dir: str) -> None:
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(count)
        env = {
            "DJANGO_SETTINGS_MODULE": "openhotline.settings",
            "DATABASE_URL": database_url(),
            "OPENHOTLINE_DATA": data_dir,
        }
        self.count = count
        # Kept: a child unpickles it after start(), and it must still exist then.
        self._barrier = barrier
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []
        for _ in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(target=serve, args=(theirs, barrier, env), daemon=True)
            process.start()
            self._pipes.append(mine)
            self._processes.append(process)

    def run(self, target: str, *args: Any) -> list[Any]:
        """Call ``target`` (``package.module.function``) in every racer at once."""
        return self.run_each(target, [args] * self.count)

    def run_each(self, target: str, calls: list[tuple[Any, ...]]) -> list[Any]:
        """Call ``target`` at once, racer ``i`` with the arguments ``calls[i]``."""
        assert len(calls) == self.count, "one call per racer"
        for pipe, args in zip(self._pipes, calls, strict=True):
            pipe.send((target, args))
        answers = [pipe.recv() for pipe in self._pipes]
        failures = [detail for status, detail in answers if status != "ok"]
        if failures:
            raise RacerFailed("\n".join(failures))
        return [detail for _, detail in answers]

    def close(self) -> None:
        for pipe in self._pipes:
            try:
                pipe.send(None)
            except OSError:
                pass
        for process in self._processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join(timeout=10)

    def __enter__(self) -> Racers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
