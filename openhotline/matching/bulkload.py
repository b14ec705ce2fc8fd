"""Writing many hash entries at once, skipping those a set already holds.

Hash-set imports run to hundreds of thousands of entries. The ORM's
``bulk_create`` builds SQL for every 70 rows on SQLite (its limit of 999
parameters) and adapts every value in Python, and checking for duplicates with
``key IN (…)`` queries degrades on PostgreSQL while a large import is still
uncommitted (no statistics yet, so the planner scans the set's whole index).
Instead each backend gets its bulk path, and duplicates are skipped by the
(hash_set, key) unique constraint itself:

- SQLite: one prepared ``INSERT … ON CONFLICT DO NOTHING`` run with ``executemany``;
- PostgreSQL: ``COPY`` into a temporary table, then ``INSERT … SELECT … ON
  CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, models

from openhotline.matching.models import HashEntry

SQLITE_CACHE_KIB = 256 * 1024
STAGE = "matching_import_stage"


def insert_entries(rows: Iterable[dict[str, Any]]) -> int:
    """Insert entries (dicts of field attname -> value); return how many were new.

    Must run inside a transaction (the PostgreSQL staging table lives until it ends).
    """
    fields = [f for f in HashEntry._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(HashEntry._meta.db_table)
    moments: dict[Any, Any] = {}

    def adapt(field: models.Field, value: Any) -> Any:
        if isinstance(field, models.JSONField):
            return connection.ops.adapt_json_value(value, field.encoder)
        if value not in moments:  # a DateTimeField: one time for the whole batch
            moments[value] = field.get_db_prep_save(value, connection)
        return moments[value]

    special = {f.attname for f in fields if isinstance(f, (models.JSONField, models.DateTimeField))}
    params = [
        [adapt(f, row[f.attname]) if f.attname in special else row[f.attname] for f in fields]
        for row in rows
    ]
    if not params:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                params,
            )
            return int(cursor.rowcount)
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {STAGE}")
        with cursor.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {STAGE} "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
        return int(cursor.rowcount)


@contextmanager
def large_cache() -> Iterator[None]:
    """On SQLite, a page cache big enough for the indexes of a large import.

    Inserting random hashes touches index pages all over; with SQLite's default
    2 MB cache an import of hundreds of thousands of entries slows to a crawl.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")
