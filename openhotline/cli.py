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

from django.core.exceptions import ImproperlyConfigured


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    args[0] = "openhotline"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    if len(args) > 1 and args[1] == "demo":
        # The demo is a local playground: logins without a second factor, the
        # crawler may fetch the demo website that it serves on loopback, and
        # nothing is looked up on the internet (no RDAP).
        os.environ.setdefault("OPENHOTLINE_REQUIRE_2FA", "false")
        os.environ.setdefault("OPENHOTLINE_FETCH_ALLOW", "127.0.0.1")
        os.environ.setdefault("OPENHOTLINE_RDAP_CLIENT", "")
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
