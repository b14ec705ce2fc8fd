from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from gunicorn.app.base import BaseApplication

from openhotline.blocking.access import only_hotline
from openhotline.blocking.stoppage import StopPageApp


class StopPageServer(BaseApplication):
    """gunicorn running the stop page in this process's configuration."""

    def __init__(self, app: StopPageApp, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> StopPageApp:
        return self.application


def _close_connections(server: Any, worker: Any) -> None:
    # A forked worker must not share the parent's database connection.
    connections.close_all()


class Command(BaseCommand):
    help = (
        "Serve the stop page: HTTP 451 with a Link rel=blocked-by for any host name, "
        "in the visitor's language. No access log is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--listen", default="127.0.0.1:8451", help="host:port, e.g. 0.0.0.0:80 or [::]:80"
        )
        parser.add_argument("--hotline", help="slug of the hotline (default: the only one)")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        listen = options["listen"]
        if ":" not in listen:
            raise CommandError(f"--listen: expected host:port, got {listen!r}")
        try:
            hotline = only_hotline(options["hotline"])
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        app = StopPageApp(hotline.pk, count_daily=settings.OPENHOTLINE_STOPPAGE_DAILY_COUNT)
        connections.close_all()
        self.stdout.write(f"stop page of {hotline.name} on http://{listen}/ ; Ctrl-C stops")
        self.stdout.flush()
        StopPageServer(
            app,
            {
                "bind": [listen],
                "workers": options["workers"],
                "threads": options["threads"],
                "worker_class": "gthread",
                # No access log: the stop page keeps no record of who visited.
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "post_fork": _close_connections,
                "proc_name": "openhotline-stoppage",
                "graceful_timeout": 5,
            },
        ).run()
