"""One row per fact: find a row, or create it when two writers may race.

``SELECT … FOR UPDATE`` on a row that does not exist yet locks nothing, so
two transactions can both find nothing and both insert. Only a unique
constraint in the database stops the second insert. ``find_or_create``
turns that refusal into the answer the loser wanted: it tries the insert in
a savepoint and, on ``IntegrityError``, finds the winner's row (on
PostgreSQL the insert waits for the winner to commit first, and under READ
COMMITTED the next query sees its row).

Django's own ``get_or_create`` does the same when the lookup is exactly the
constrained columns; this helper is for lookups it cannot express, such as
case-insensitive keys or "the open one".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, connection, transaction

T = TypeVar("T")


def find_or_create(find: Callable[[], T | None], create: Callable[[], T]) -> tuple[T, bool]:
    """Return ``(row, created)``: ``find()``'s row, or the one ``create()`` inserted.

    1. ``find()``; a row found is returned.
    2. ``create()`` runs in a savepoint, so a refused insert leaves the
       caller's transaction usable. Put the insert's own audit or timeline
       entries in ``create`` too: they roll back with it.
    3. On ``IntegrityError``, ``find()`` again: the row another writer
       committed. When there is none, the error was about something else
       and is raised.
    """
    found = find()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            return create(), True
    except IntegrityError:
        found = find()
        if found is None:
            raise
        return found, False


def lock_name(name: str) -> None:
    """Hold a lock on ``name`` until the current transaction ends.

    For facts that span rows no constraint can cover, such as "this URL
    is now known to two hotlines": each writer must see the other's
    commit. PostgreSQL takes a transaction-level advisory lock keyed by a
    hash of the name. SQLite needs none: its transactions start IMMEDIATE
    (settings.py), so writers already go one at a time.
    """
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("lock_name() holds its lock until the transaction ends: call it in one")
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
