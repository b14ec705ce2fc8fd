"""Start-up checks and process supervision shared by ``serve``, ``worker`` and ``demo``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from openhotline.ops.health import check_broker, check_database


def require_services() -> None:
    """Stop with one clear line when the database or the broker cannot be reached."""
    database = check_database()
    if not database.ok:
        raise CommandError(f"DATABASE_URL: {database.reason}")
    broker = check_broker()
    if not broker.ok:
        raise CommandError(f"CELERY_BROKER_URL: {broker.reason}")


def migrate_if_needed(stdout: object = None) -> bool:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return False
    call_command("migrate", interactive=False, verbosity=1)
    return True


def broker_description() -> str:
    url = settings.CELERY_BROKER_URL
    if url.startswith("sqla+sqlite"):
        return "embedded (SQLite)"
    return url.split("@")[-1]


class Supervisor:
    """Run child processes together; Ctrl-C or SIGTERM stops them all cleanly."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def start(self, name: str, argv: list[str]) -> None:
        self.children.append((name, subprocess.Popen(argv)))

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        exit_code = 0
        try:
            while not self.stopping:
                for name, proc in self.children:
                    code = proc.poll()
                    if code is not None:
                        print(f"openhotline: {name} exited with status {code}", file=sys.stderr)
                        self.stopping = True
                        exit_code = code or 1
                        break
                time.sleep(0.5)
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return exit_code

    def stop(self, grace: float = 15.0) -> None:
        for _, proc in self.children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, proc in self.children:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
