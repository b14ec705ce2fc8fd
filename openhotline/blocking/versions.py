"""What a published version holds, and what changed between two versions.

An entry is in version ``v`` when one of its spans has ``start <= v`` and no end
or an end after ``v`` (see ``PublishedSpan``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from openhotline.accounts.models import Organisation
from openhotline.blocking.models import Publication, PublishedSpan

# Enough ids per query for speed, few enough for every database's parameter limit.
ID_BATCH = 500


def current_publication(hotline: Organisation) -> Publication | None:
    return Publication.objects.filter(hotline=hotline).order_by("-serial").first()


def alive_at(serial: int) -> Q:
    return Q(start_serial__lte=serial) & (Q(end_serial__isnull=True) | Q(end_serial__gt=serial))


def spans_at(hotline: Organisation, serial: int) -> QuerySet[PublishedSpan]:
    return PublishedSpan.objects.filter(alive_at(serial), hotline=hotline)


def entry_ids_at(hotline: Organisation, serial: int) -> set[int]:
    if serial <= 0:
        return set()
    return set(spans_at(hotline, serial).values_list("entry_id", flat=True).iterator(20000))


ROW_FIELDS = ("entry__kind", "entry__host", "entry__value", "entry__code")


def rows_at(hotline: Organisation, serial: int) -> Iterator[tuple[Any, ...]]:
    """``(kind, host, value, code)`` of every entry in the version, ordered by name.

    Ordering by host lets exports fold several entries on one host into one name.
    """
    if serial <= 0:
        return iter(())
    return (
        spans_at(hotline, serial)
        .order_by("entry__host", "entry__kind", "entry__value")
        .values_list(*ROW_FIELDS)
        .iterator(chunk_size=20000)
    )


@dataclass
class VersionDiff:
    since: int
    serial: int
    added: list[tuple[Any, ...]]
    removed: list[tuple[Any, ...]]


def diff(hotline: Organisation, since: int, serial: int) -> VersionDiff:
    """Entries added and removed from version ``since`` to version ``serial``.

    1. Find the entries whose spans start or end between the two versions;
       nothing else can differ.
    2. For those, ask whether each was in the old and in the new version (an
       entry removed and restored by a rollback is in both: no change).
    3. Return their rows, ordered by name.
    """
    if since >= serial:
        return VersionDiff(since, serial, [], [])
    window = (Q(start_serial__gt=since) & Q(start_serial__lte=serial)) | (
        Q(end_serial__gt=since) & Q(end_serial__lte=serial)
    )
    touched = set(
        PublishedSpan.objects.filter(window, hotline=hotline).values_list("entry_id", flat=True)
    )
    before = _alive_among(hotline, since, touched)
    after = _alive_among(hotline, serial, touched)
    return VersionDiff(
        since,
        serial,
        added=_rows_for(after - before),
        removed=_rows_for(before - after),
    )


def _alive_among(hotline: Organisation, serial: int, ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    if serial <= 0:
        return found
    for batch in batched(ids):
        found.update(
            spans_at(hotline, serial).filter(entry_id__in=batch).values_list("entry_id", flat=True)
        )
    return found


def _rows_for(ids: set[int]) -> list[tuple[Any, ...]]:
    from openhotline.blocking.models import BlocklistEntry

    rows: list[tuple[Any, ...]] = []
    for batch in batched(ids):
        rows.extend(
            BlocklistEntry.objects.filter(id__in=batch).values_list("kind", "host", "value", "code")
        )
    rows.sort(key=lambda row: (row[1], row[0], row[2]))
    return rows


def batched(ids: Iterable[int], size: int = ID_BATCH) -> Iterator[list[int]]:
    batch: list[int] = []
    for item in ids:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
