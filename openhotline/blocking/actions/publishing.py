"""Publishing a new version of a hotline's list, and rolling back to an earlier one.

Both run the guards (``guards.py``) over the whole version about to go out, refuse
it naming each entry and rule, and record the refusal; nothing reaches providers
that has not passed them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from openhotline.accounts.access import has_role
from openhotline.accounts.models import SENIOR_ANALYSTS_NOT_ADMINS, SENIOR_ROLES, Organisation, User
from openhotline.audit.log import record
from openhotline.blocking.actions.entries import BlocklistError
from openhotline.blocking.guards import EntryChecker, Violation, change_share_violation
from openhotline.blocking.models import (
    ACTIVE_STATES,
    BlocklistEntry,
    EntryState,
    Publication,
    PublishedSpan,
)
from openhotline.blocking.versions import (
    batched,
    current_publication,
    entry_ids_at,
    spans_at,
)

# A refusal lists this many violations in full; the count says how many there were.
MAX_LISTED_VIOLATIONS = 100


class PublishRefused(BlocklistError):
    def __init__(self, violations: list[Violation], total: int) -> None:
        self.violations = violations
        self.total = total
        more = f"\n… and {total - len(violations)} more" if total > len(violations) else ""
        super().__init__(
            f"publication refused ({total} violation{'s' if total != 1 else ''}):\n"
            + "\n".join(str(v) for v in violations)
            + more
        )


@dataclass
class PublishOutcome:
    publication: Publication | None
    created: bool
    added: int = 0
    removed: int = 0


def do_publish(
    hotline: Organisation, *, actor: User | None = None, override: bool = False
) -> PublishOutcome:
    """Make the approved list the next version.

    1. Lock the hotline's list: one publisher at a time.
    2. The new version holds the approved and live entries, less those whose
       delisting was approved.
    3. Run the per-entry guards over every entry of it: a name protected since
       the last version stops the next one too.
    4. Compare with the live version. Nothing changed: keep it. Otherwise run
       the change-share guard, which only a senior analyst may override.
    5. Refused: record the refusal (it commits) and raise ``PublishRefused``.
    6. Else store version N+1 as spans, move approved entries to live and
       delisted ones out, and record the publication.
    """
    if actor is not None and not has_role(actor, hotline, SENIOR_ROLES):
        raise BlocklistError(
            gettext("%(user)s may not publish this hotline's list") % {"user": actor.get_username()}
        )
    if override and (actor is None or not has_role(actor, hotline, SENIOR_ANALYSTS_NOT_ADMINS)):
        raise BlocklistError(
            gettext("only a senior analyst of the hotline may override the guards")
        )
    refusal: PublishRefused | None = None
    with transaction.atomic():
        _lock(hotline)
        current = current_publication(hotline)
        serial = current.serial if current else 0
        live = entry_ids_at(hotline, serial)
        rows = (
            BlocklistEntry.objects.filter(
                hotline=hotline,
                state__in=[EntryState.APPROVED, EntryState.LIVE],
                delist_approved_at__isnull=True,
            )
            .values_list("id", "code", "kind", "host", "value")
            .iterator(20000)
        )
        target, violations = _check(hotline, rows)
        added, removed = target - live, live - target
        if current is not None and not added and not removed:
            return PublishOutcome(current, created=False)
        share = change_share_violation(len(live), len(added), len(removed))
        if share is not None and not override:
            violations.append(share)
        if violations:
            refusal = _refuse(hotline, actor, violations, action="publish")
        else:
            publication = _store(
                hotline,
                serial + 1,
                added,
                removed,
                entry_count=len(target),
                actor=actor,
                override_by=actor if share is not None else None,
            )
            now = timezone.now()
            for batch in batched(added):
                BlocklistEntry.objects.filter(id__in=batch).update(
                    state=EntryState.LIVE, listed_at=now, updated_at=now
                )
            for batch in batched(removed):
                BlocklistEntry.objects.filter(id__in=batch).update(
                    state=EntryState.DELISTED, delisted_at=now, updated_at=now
                )
            record(
                "blocklist.published",
                actor=actor,
                organisation=hotline,
                obj=publication,
                detail={
                    "serial": publication.serial,
                    "entries": len(target),
                    "added": len(added),
                    "removed": len(removed),
                    "override": share is not None,
                },
            )
    if refusal is not None:
        raise refusal
    return PublishOutcome(publication, created=True, added=len(added), removed=len(removed))


def do_rollback(hotline: Organisation, to_serial: int, *, actor: User) -> PublishOutcome:
    """Publish, as a new version, exactly what version ``to_serial`` held.

    The rollback is itself a senior analyst's explicit decision, so the
    change-share guard does not apply; the per-entry guards do. Entries the
    rollback takes off go back to "proposed" and need a fresh approval; entries
    it restores are live again.
    """
    if not has_role(actor, hotline, SENIOR_ANALYSTS_NOT_ADMINS):
        raise BlocklistError(gettext("only a senior analyst of the hotline may roll back"))
    refusal: PublishRefused | None = None
    with transaction.atomic():
        _lock(hotline)
        current = current_publication(hotline)
        if current is None or not 1 <= to_serial < current.serial:
            raise BlocklistError(
                gettext("no earlier version %(serial)s to roll back to") % {"serial": to_serial}
            )
        rows = (
            spans_at(hotline, to_serial)
            .values_list("entry_id", "entry__code", "entry__kind", "entry__host", "entry__value")
            .iterator(20000)
        )
        target, violations = _check(hotline, rows)
        live = entry_ids_at(hotline, current.serial)
        added, removed = target - live, live - target
        if violations:
            refusal = _refuse(hotline, actor, violations, action="rollback")
        else:
            publication = _store(
                hotline,
                current.serial + 1,
                added,
                removed,
                entry_count=len(target),
                actor=actor,
                restores=to_serial,
            )
            _restore_states(added, removed, to_serial)
            record(
                "blocklist.rolled_back",
                actor=actor,
                organisation=hotline,
                obj=publication,
                detail={
                    "serial": publication.serial,
                    "restores": to_serial,
                    "added": len(added),
                    "removed": len(removed),
                },
            )
    if refusal is not None:
        raise refusal
    return PublishOutcome(publication, created=True, added=len(added), removed=len(removed))


def _lock(hotline: Organisation) -> None:
    Organisation.objects.select_for_update().filter(pk=hotline.pk).exists()


def _check(
    hotline: Organisation, rows: Iterable[tuple[Any, ...]]
) -> tuple[set[int], list[Violation]]:
    checker = EntryChecker.for_hotline(hotline)
    target: set[int] = set()
    violations: list[Violation] = []
    for entry_id, code, kind, host, value in rows:
        target.add(entry_id)
        violation = checker.check(code, kind, host, value)
        if violation is not None:
            violations.append(violation)
    return target, violations


def _refuse(
    hotline: Organisation, actor: User | None, violations: list[Violation], *, action: str
) -> PublishRefused:
    shown = violations[:MAX_LISTED_VIOLATIONS]
    record(
        f"blocklist.{action}_refused",
        actor=actor,
        organisation=hotline,
        object_type="blocking.publication",
        detail={
            "violations": len(violations),
            "rules": sorted({v.rule for v in violations}),
            "first": [str(v) for v in shown[:10]],
        },
    )
    return PublishRefused(shown, len(violations))


def _store(
    hotline: Organisation,
    serial: int,
    added: set[int],
    removed: set[int],
    *,
    entry_count: int,
    actor: User | None,
    override_by: User | None = None,
    restores: int | None = None,
) -> Publication:
    publication = Publication.objects.create(
        hotline=hotline,
        serial=serial,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        entry_count=entry_count,
        added_count=len(added),
        removed_count=len(removed),
        restores_serial=restores,
        override_by=override_by,
    )
    for batch in batched(removed):
        PublishedSpan.objects.filter(
            hotline=hotline, entry_id__in=batch, end_serial__isnull=True
        ).update(end_serial=serial)
    for batch in batched(sorted(added), 5000):
        PublishedSpan.objects.bulk_create(
            [PublishedSpan(hotline=hotline, entry_id=i, start_serial=serial) for i in batch]
        )
    transaction.on_commit(lambda: _queue_exports(publication.pk))
    return publication


def _restore_states(added: set[int], removed: set[int], to_serial: int) -> None:
    now = timezone.now()
    for batch in batched(added):
        restored = BlocklistEntry.objects.filter(id__in=batch)
        for hotline_id, kind, value in restored.values_list("hotline_id", "kind", "value"):
            # A value proposed again after its old entry left would now be listed twice.
            BlocklistEntry.objects.filter(
                hotline_id=hotline_id, kind=kind, value=value, state__in=ACTIVE_STATES
            ).exclude(id__in=batch).update(
                state=EntryState.DELISTED,
                delisted_at=now,
                note=f"replaced by the entry restored by a rollback to version {to_serial}",
                updated_at=now,
            )
        restored.update(
            state=EntryState.LIVE,
            listed_at=now,
            delisted_at=None,
            delist_reason="",
            delist_proposed_by=None,
            delist_proposed_at=None,
            delist_approved_by=None,
            delist_approved_at=None,
            note=f"restored by a rollback to version {to_serial}",
            updated_at=now,
        )
    for batch in batched(removed):
        BlocklistEntry.objects.filter(id__in=batch).update(
            state=EntryState.PROPOSED,
            approved_by=None,
            approved_at=None,
            delist_proposed_by=None,
            delist_proposed_at=None,
            delist_approved_by=None,
            delist_approved_at=None,
            note=f"taken off by a rollback to version {to_serial}; needs a new approval",
            updated_at=now,
        )


def _queue_exports(publication_id: int) -> None:
    from openhotline.blocking.tasks import build_exports

    build_exports.delay(publication_id)
