from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.ops.runtime import (
    Supervisor,
    broker_description,
    migrate_if_needed,
    require_services,
)


class Command(BaseCommand):
    help = "Serve the web application with gunicorn, and an embedded worker with beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to listen on")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--worker-concurrency", type=int, default=2)
        parser.add_argument(
            "--no-worker", action="store_true", help="web only (workers run elsewhere)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        addr = options["addr"]
        if ":" not in addr:
            raise CommandError(f"--addr: expected host:port, got {addr!r}")
        require_services()
        migrate_if_needed()
        supervisor = Supervisor()
        supervisor.start(
            "web server",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "openhotline.wsgi:application",
                "--bind",
                addr,
                "--workers",
                str(options["web_workers"]),
                "--threads",
                "4",
                "--graceful-timeout",
                "10",
                "--access-logfile",
                "-",
                # No client addresses in the logs: reporters stay anonymous.
                "--access-logformat",
                '%(t)s "%(r)s" %(s)s %(b)s %(L)s',
            ],
        )
        if not options["no_worker"]:
            supervisor.start(
                "worker",
                [
                    sys.executable,
                    "-m",
                    "openhotline",
                    "worker",
                    "--beat",
                    "--concurrency",
                    str(options["worker_concurrency"]),
                ],
            )
        self.stdout.write(
            f"openhotline on http://{addr}/ (broker: {broker_description()}); Ctrl-C stops"
        )
        code = supervisor.run()
        if code:
            raise CommandError("a child process stopped; see its output above")
