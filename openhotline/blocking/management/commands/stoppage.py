from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from gunicorn.app.base import BaseApplication

from openhotline.accounts.models import Organisation, OrgKind
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


def is_local_url(url: str) -> bool:
    """A URL visitors on the internet cannot reach: loopback, or no host at all."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("", "localhost") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        parser.add_argument(
            "--hotline",
            help="slug of the hotline whose page names that no list blocks get "
            "(default: the only hotline; with several, a page naming none)",
        )
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)

    def _default_hotline(self, slug: str | None) -> Organisation | None:
        if slug:
            try:
                return only_hotline(slug)
            except LookupError as exc:
                raise CommandError(str(exc)) from None
        hotlines = list(Organisation.objects.filter(kind=OrgKind.HOTLINE)[:2])
        return hotlines[0] if len(hotlines) == 1 else None

    def handle(self, *args: Any, **options: Any) -> None:
        listen = options["listen"]
        if ":" not in listen:
            raise CommandError(f"--listen: expected host:port, got {listen!r}")
        base = settings.OPENHOTLINE_PUBLIC_BASE_URL
        if is_local_url(base):
            if settings.PRODUCTION:
                raise CommandError(
                    f"OPENHOTLINE_PUBLIC_BASE_URL is {base!r}, which visitors cannot reach: "
                    "set it to the hotline's public address"
                )
            self.stderr.write(f"warning: the stop page's links point at {base}, a local address")
        default = self._default_hotline(options["hotline"])
        app = StopPageApp(
            default.pk if default else None, count_daily=settings.OPENHOTLINE_STOPPAGE_DAILY_COUNT
        )
        hotlines = ", ".join(
            Organisation.objects.filter(kind=OrgKind.HOTLINE).values_list("name", flat=True)
        )
        connections.close_all()
        self.stdout.write(
            f"stop page of {hotlines or 'no hotline yet'} on http://{listen}/ ; Ctrl-C stops"
        )
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
