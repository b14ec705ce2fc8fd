"""Trigram indexes for the queue's search by part of a URL or domain (PostgreSQL only).

The queue search filters ``UPPER(url) LIKE UPPER('%part%')`` (Django's
``url__icontains``) and ``host LIKE '%.domain'`` (``host__endswith``). A B-tree
index cannot serve a leading wildcard, so at 100,000 URLs both were a full scan.
A GIN index with ``gin_trgm_ops`` on exactly those expressions can.

``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database owner may
create it without being a superuser. SQLite has neither, and its search stays
a scan; both functions below do nothing there, forwards or backwards (Django's
``TrigramExtension`` operation queries ``pg_extension`` when unapplied, on
SQLite too). Unapplying leaves the extension: something else may use it. The
indexes are not in the models' state (``Meta.indexes`` would be created on
SQLite too), so they are added and dropped here only.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

# ``url__icontains`` compiles to ``UPPER("url"::text) LIKE UPPER(%s)``: the index
# is on that expression. (Django's ``OpClass`` around an expression needs
# ``django.contrib.postgres`` installed, which this project does not; SQL it is.)
URL_INDEX = "reports_url_upper_trgm"
HOST_INDEX = GinIndex(fields=["host"], opclasses=["gin_trgm_ops"], name="reports_host_trgm")


def add_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX {URL_INDEX} ON reports_reportedurl USING gin (UPPER(url) gin_trgm_ops)"
    )
    schema_editor.add_index(apps.get_model("reports", "ReportedUrl"), HOST_INDEX)


def remove_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {URL_INDEX}")
    schema_editor.remove_index(apps.get_model("reports", "ReportedUrl"), HOST_INDEX)


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_deconflictionlink_from_intake")]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
