"""The ``openhotline`` console script.

Every Django management command works through it (``openhotline migrate``),
plus openhotline's own: ``serve``, ``worker``, ``demo``, ``org``, ``user``,
``audit`` and ``selfcheck``. A configuration error stops it with one line
naming the setting, and any other error with one line too, never a traceback
(unless ``--traceback`` is given).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# The demo is a local playground (README, "Try it"), set up here because settings
# are read once, before any command runs; an environment variable still wins.
# Logins without a second factor; the crawler fetches the demo websites it serves
# on loopback, finds their names with the demo's DNS server and their countries in
# the demo geo file, and looks nothing up on the internet (no RDAP); notices go to
# the demo's mail catcher every 30 s; the DNS feeds point blocked names at the stop
# page; one re-check confirms a removal.
DEMO_SETTINGS = {
    "OPENHOTLINE_DEMO": "true",
    "OPENHOTLINE_REQUIRE_2FA": "false",
    "OPENHOTLINE_FETCH_ALLOW": "127.0.0.1,127.0.0.2",
    "OPENHOTLINE_RDAP_CLIENT": "",
    "OPENHOTLINE_DNS_SERVERS": "127.0.0.1:8753",
    "OPENHOTLINE_GEOIP_MMDB": str(Path(__file__).resolve().parent / "demo/data/demo-geo.mmdb"),
    "OPENHOTLINE_SMTP_HOST": "127.0.0.1",
    "OPENHOTLINE_SMTP_PORT": "8725",
    "OPENHOTLINE_SMTP_SECURITY": "none",
    "OPENHOTLINE_MAIL_FROM": "hotline@demo-hotline.test",
    "OPENHOTLINE_NOTICE_BATCH_MINUTES": "0.5",
    "OPENHOTLINE_RECHECK_CONFIRM_MINUTES": "0",
    "OPENHOTLINE_REMOVAL_CHECKS": "1",
    "OPENHOTLINE_STOPPAGE_ADDRESSES": "127.0.0.1",
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    args[0] = "openhotline"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    if len(args) > 1 and args[1] == "demo":
        for name, value in DEMO_SETTINGS.items():
            os.environ.setdefault(name, value)
    try:
        import django
        from django.core.management import execute_from_command_line

        django.setup()
        execute_from_command_line(args)
    except ImproperlyConfigured as exc:
        print(f"openhotline: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Commands answer bad input with CommandError (one line, from Django).
        # Anything else that escapes still gets one line, not a traceback, unless
        # the operator asks for it.
        if "--traceback" in args:
            raise
        print(f"openhotline: {_describe(exc)} (--traceback shows where)", file=sys.stderr)
        return 1
    return 0


def _describe(exc: Exception) -> str:
    from django.db import DatabaseError

    message = " ".join(str(exc).split())[:500] or type(exc).__name__
    if isinstance(exc, OSError):
        return f"{exc.filename or 'file'}: {exc.strerror or message}"
    if isinstance(exc, DatabaseError):
        return f"database error: {message}"
    if isinstance(exc, ValueError | UnicodeError | LookupError):
        return f"bad input: {message}"
    return f"unexpected error ({type(exc).__name__}): {message}"


if __name__ == "__main__":
    sys.exit(main())
