"""The racer process of ``tests/support/racers.py``.

Apart from that module on purpose: a spawned child imports the module of its
target before it runs it, and Django settings must not be read before the
child has pointed ``DATABASE_URL`` at the test database.
"""

from __future__ import annotations

import importlib
import os
import traceback
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier

BARRIER_TIMEOUT = 120.0


def serve(conn: Connection, barrier: Barrier, env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    while True:
        message = conn.recv()
        if message is None:
            break
        target, args = message
        module_name, _, name = target.rpartition(".")
        try:
            function = getattr(importlib.import_module(module_name), name)
            barrier.wait(timeout=BARRIER_TIMEOUT)
            conn.send(("ok", function(*args)))
        except BaseException:  # every failure goes back to the test, which fails with it
            conn.send(("error", traceback.format_exc()))
        finally:
            # No idle connection may keep the test database from being flushed or dropped.
            connections.close_all()
