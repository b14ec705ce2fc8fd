"""The ``openhotline`` console script.

Every Django management command works through it (``openhotline migrate``),
plus openhotline's own: ``serve``, ``worker``, ``demo``, ``org``, ``user``,
``audit`` and ``selfcheck``. A configuration error stops it with one line
naming the setting, never a traceback.
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
