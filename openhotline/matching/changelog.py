"""The change log of the hash entries, which every machine's PDQ index follows.

Every path that adds or removes hash entries writes an ``IndexChange`` row
per entry in the same transaction (``log_added``, ``log_removed``,
``log_added_query``), so the log holds exactly what committed. A machine
applies the changes after its serial (``matching.indexing.catch_up``).

That only works if serials become visible in order: a reader that has seen
serial 11 must never later find a 10. With concurrent writers a plain
sequence does not promise it (the transaction holding 10 may commit after
the one holding 11). So writers take one lock before numbering their
changes, and keep it until they commit:

- PostgreSQL: a transaction-level advisory lock (``pg_advisory_xact_lock``),
  released by the commit itself, after the rows are visible;
- SQLite: the database's own write lock already orders writers the same way.

Writers therefore log at the end of their transaction, so the lock is held
for the time it takes to insert the rows and commit, not for a whole import.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from openhotline.matching.models import HashEntry, IndexChange

# Any constant that nothing else uses as an advisory lock key ("PDQ LOG").
ADVISORY_KEY = 0x50445131_4C4F47
CHUNK = 1000


def _take_writer_lock() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("the index change log is written inside the entry's transaction")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])


def _log(entry_ids: Iterable[int], op: str) -> int:
    _take_writer_lock()
    now = timezone.now()
    rows = [IndexChange(entry_id=i, op=op, created_at=now) for i in entry_ids]
    IndexChange.objects.bulk_create(rows, batch_size=CHUNK)
    return len(rows)


def log_added(entry_ids: Iterable[int]) -> int:
    """Log entries added in the current transaction; call it just before the commit."""
    return _log(entry_ids, IndexChange.ADDED)


def log_removed(entry_ids: Iterable[int]) -> int:
    """Log entries removed in the current transaction."""
    return _log(entry_ids, IndexChange.REMOVED)


def log_added_query(entries: QuerySet[HashEntry]) -> int:
    """Log every entry of ``entries`` as added, with one INSERT … SELECT (imports)."""
    return _log_query(entries, IndexChange.ADDED)


def log_removed_query(entries: QuerySet[HashEntry]) -> int:
    """Log every entry of ``entries`` as removed, before they are deleted (whole sets)."""
    return _log_query(entries, IndexChange.REMOVED)


def _log_query(entries: QuerySet[HashEntry], op: str) -> int:
    _take_writer_lock()
    sql, params = entries.order_by("pk").values(logged_id=F("pk")).query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(IndexChange._meta.db_table)
    moment = IndexChange._meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('entry_id')}, {quote('op')}, {quote('created_at')}) "  # noqa: S608
            f"SELECT entries.{quote('logged_id')}, %s, %s FROM ({sql}) entries",
            [op, moment, *params],
        )
        return int(cursor.rowcount)


def latest_serial() -> int:
    """The serial of the newest committed change (0 for none)."""
    return IndexChange.objects.aggregate(top=Max("serial"))["top"] or 0


def latest_mark() -> tuple[int, int]:
    """(serial, entry id) of the newest committed change ((0, 0) for none)."""
    newest = IndexChange.objects.order_by("-serial").values_list("serial", "entry_id").first()
    return newest or (0, 0)


def entries_at(serials: Iterable[int]) -> dict[int, int]:
    """The entry id of the change at each of ``serials`` that exists."""
    return dict(
        IndexChange.objects.filter(serial__in=set(serials)).values_list("serial", "entry_id")
    )


def changes_after(serial: int, limit: int) -> list[tuple[int, int, str]]:
    """(serial, entry id, op) of the next ``limit`` changes after ``serial``, in order."""
    return list(
        IndexChange.objects.filter(serial__gt=serial)
        .order_by("serial")
        .values_list("serial", "entry_id", "op")[:limit]
    )
