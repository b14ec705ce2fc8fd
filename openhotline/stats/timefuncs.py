"""Whole seconds since 1970 in SQL, the same on SQLite and PostgreSQL.

Every duration in the statistics is the difference of two such values, so it
is an integer, computed in the database, and identical whichever database
computes it. Fractions of a second are cut off before subtracting: the
figures are about hours and days, and an integer sorts and indexes well.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, Expression, Func
from django.db.models.sql.compiler import SQLCompiler


class EpochSeconds(Func):
    """``floor(seconds since 1970)`` of a timestamp expression; NULL stays NULL."""

    arity = 1
    output_field = BigIntegerField()

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        # Django keeps SQLite timestamps as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]".
        # The first 19 characters are the whole second; julianday() of that is
        # exact to the millisecond, so rounding gives the integer back.
        return self.as_sql(
            compiler,
            connection,
            template=(
                "CAST(ROUND((julianday(substr(%(expressions)s, 1, 19)) - 2440587.5) * 86400.0)"
                " AS INTEGER)"
            ),
            **extra,
        )

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM date_trunc('second', %(expressions)s)) AS BIGINT)",
            **extra,
        )


def seconds_between(end: str | Expression, start: str | Expression) -> Expression:
    """``end - start`` in whole seconds (NULL when either is NULL)."""
    return EpochSeconds(end) - EpochSeconds(start)
