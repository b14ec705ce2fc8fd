"""Computing facts from the working tables, for a few rows or for all of them.

One definition per fact table: a queryset over the source rows whose
columns are the fact's columns (the ``f_*`` annotations). It is compiled to
SQL and wrapped in ``INSERT … SELECT … ON CONFLICT DO UPDATE`` (the same
syntax on SQLite and PostgreSQL), so the receivers that refresh one row and
the rebuild that refreshes a million run the same statement, and no row
travels through Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from openhotline.assessment.models import (
    Classification,
    ClassificationSource,
    ItemStatus,
    ReviewState,
)
from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS
from openhotline.audit.models import AuditEvent
from openhotline.reports.models import Report, ReportedUrl
from openhotline.stats import sources
from openhotline.stats.models import ItemFact, ReportFact, UrlFact
from openhotline.stats.timefuncs import seconds_between

CHUNK = 20000
# The audit entries of a person seeing a media item unblurred: the reveal steps
# (grey, then colour) of the review screen and the police portal, and the enlarged
# view (only of an item revealed first). A blurred thumbnail is "media.viewed".
MEDIA_OBJECT = "evidence.mediaitem"
REVEAL_ACTIONS = ("media.revealed", "media.enlarged")


@dataclass(frozen=True)
class FactSpec:
    """How one fact table is computed: source rows annotated with one ``f_*`` per column."""

    model: type[models.Model]
    key: str  # the fact's primary-key column
    rows: Callable[[Q], QuerySet[Any]]
    columns: tuple[tuple[str, str], ...]  # (fact column, annotation)


def _url_rows(where: Q) -> QuerySet[ReportedUrl]:
    return ReportedUrl.objects.filter(where).annotate(
        f_pk=F("pk"),
        f_hotline=F("hotline_id"),
        f_reported_at=F("created_at"),
        f_country=F("hosting_country"),
        f_verdict=Coalesce(F("assessment__verdict"), Value("")),
        f_illegal=Case(
            When(assessment__verdict__in=list(ILLEGAL_VERDICTS), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        f_assessed_s=seconds_between("assessed_at", "created_at"),
        f_removal_s=seconds_between("removed_at", "created_at"),
        **sources.url_annotations(),
    )


def _report_rows(where: Q) -> QuerySet[Report]:
    return Report.objects.filter(where).annotate(
        f_pk=F("pk"),
        f_hotline=F("hotline_id"),
        f_created_at=F("created_at"),
        f_source=F("source"),
    )


def _item_rows(where: Q) -> QuerySet[ItemStatus]:
    known = Classification.objects.filter(
        hotline_id=OuterRef("hotline_id"),
        media_item_id=OuterRef("media_item_id"),
        source=ClassificationSource.HASH_MATCH,
    )
    return ItemStatus.objects.filter(where).annotate(
        f_pk=F("pk"),
        f_hotline=F("hotline_id"),
        f_media=F("media_item_id"),
        f_classified_at=F("current__created_at"),
        f_in_force=Case(
            When(review_state=ReviewState.FINAL, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        f_verdict=F("current__verdict"),
        f_age_group=F("current__age_group"),
        f_gender=F("current__gender"),
        f_virtual=F("current__is_virtual"),
        f_self_generated=F("current__is_self_generated"),
        f_child_modelling=F("current__is_child_modelling"),
        f_commercial=F("current__is_commercial"),
        f_known=Exists(known),
        f_revealed=Exists(
            AuditEvent.objects.filter(
                object_type=MEDIA_OBJECT,
                object_id=OuterRef("media_item__code"),
                action__in=REVEAL_ACTIONS,
            )
        ),
    )


URL_FACTS = FactSpec(
    UrlFact,
    "reported_url_id",
    _url_rows,
    (
        ("reported_url_id", "f_pk"),
        ("hotline_id", "f_hotline"),
        ("reported_at", "f_reported_at"),
        ("country", "f_country"),
        ("verdict", "f_verdict"),
        ("illegal", "f_illegal"),
        ("assessed_s", "f_assessed_s"),
        ("removal_s", "f_removal_s"),
        ("referral_s", "f_referral_s"),
        ("notice_s", "f_notice_s"),
        ("removal_after_notice_s", "f_removal_after_notice_s"),
        ("contact_pk", "f_contact_pk"),
        ("referral_system_s", "f_referral_system_s"),
        ("notice_system_s", "f_notice_system_s"),
        ("notice_hold_s", "f_notice_hold_s"),
    ),
)
REPORT_FACTS = FactSpec(
    ReportFact,
    "report_id",
    _report_rows,
    (
        ("report_id", "f_pk"),
        ("hotline_id", "f_hotline"),
        ("created_at", "f_created_at"),
        ("source", "f_source"),
    ),
)
ITEM_FACTS = FactSpec(
    ItemFact,
    "status_id",
    _item_rows,
    (
        ("status_id", "f_pk"),
        ("hotline_id", "f_hotline"),
        ("media_item_id", "f_media"),
        ("classified_at", "f_classified_at"),
        ("in_force", "f_in_force"),
        ("verdict", "f_verdict"),
        ("age_group", "f_age_group"),
        ("gender", "f_gender"),
        ("is_virtual", "f_virtual"),
        ("is_self_generated", "f_self_generated"),
        ("is_child_modelling", "f_child_modelling"),
        ("is_commercial", "f_commercial"),
        ("known", "f_known"),
        ("revealed", "f_revealed"),
    ),
)


def _upsert(spec: FactSpec, where: Q) -> int:
    """Insert or update the facts of the source rows matching ``where``; returns the count."""
    aliases = [alias for _, alias in spec.columns]
    queryset = spec.rows(where).order_by().values(*aliases)
    inner, params = queryset.query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    table = quote(spec.model._meta.db_table)
    columns = ", ".join(quote(column) for column, _ in spec.columns)
    selected = ", ".join(f"s.{quote(alias)}" for alias in aliases)
    updates = ", ".join(
        f"{quote(column)} = excluded.{quote(column)}"
        for column, _ in spec.columns
        if column != spec.key
    )
    # "WHERE true" keeps SQLite from reading ON CONFLICT as a join's ON clause.
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {selected} FROM ({inner}) s WHERE true "  # noqa: S608 - names are ours
        f"ON CONFLICT ({quote(spec.key)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def refresh_url_facts(ids: Iterable[int]) -> None:
    """Recompute the facts of these reported URLs (a receiver's call)."""
    ids = list(ids)
    if ids:
        _upsert(URL_FACTS, Q(pk__in=ids))


def refresh_report_facts(ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        _upsert(REPORT_FACTS, Q(pk__in=ids))


def refresh_item_facts(ids: Iterable[int]) -> None:
    """Recompute the facts of these item statuses."""
    ids = list(ids)
    if ids:
        _upsert(ITEM_FACTS, Q(pk__in=ids))


def rebuild(spec: FactSpec, *, chunk: int = CHUNK) -> int:
    """Recompute every fact of one table, a range of source ids per transaction.

    Each range is upserted in its own short transaction, so SQLite's writers
    wait seconds, not minutes. No fact outlives its source row: the foreign
    key cascades, and the database refuses to delete a source row under it.
    """
    source = spec.rows(Q()).model
    # From the lowest id, not 0: ids of deleted rows are never reused, so a
    # table whose rows all have large ids would otherwise walk empty ranges
    # (on PostgreSQL a test suite's sequences reach 10^5 long before the end).
    bounds = source._default_manager.aggregate(low=Min("pk"), top=Max("pk"))
    if bounds["top"] is None:
        return 0
    done = 0
    for low in range(bounds["low"], bounds["top"] + 1, chunk):
        with transaction.atomic():
            done += _upsert(spec, Q(pk__gte=low, pk__lt=low + chunk))
    return done


def rebuild_all(*, chunk: int = CHUNK) -> dict[str, int]:
    """Every fact table, recomputed, then analysed so the planner knows its indexes'
    spread (SQLite has no autovacuum to do it); returns the rows written per table."""
    written = {}
    for spec in (URL_FACTS, REPORT_FACTS, ITEM_FACTS):
        written[spec.model.__name__] = rebuild(spec, chunk=chunk)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(spec.model._meta.db_table)}")
    return written
