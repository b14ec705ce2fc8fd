"""Proposing, approving and delisting blocklist entries (publishing: ``publishing.py``).

Other parts of the system propose through these functions: a confirmed illegal URL
still online after the country's grace time (``tasks.propose_overdue_urls``), a
re-check showing removal (``do_propose_delisting``), a periodic re-verification
(``do_record_verification``). Every change needs a second person: a senior
analyst other than the one who proposed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from openhotline.accounts.access import has_role
from openhotline.accounts.models import (
    SENIOR_ANALYSTS_NOT_ADMINS,
    SENIOR_ROLES,
    Organisation,
    User,
)
from openhotline.audit.log import record
from openhotline.blocking.importing import ImportProblem, ImportRow
from openhotline.blocking.models import (
    ACTIVE_STATES,
    WHOLE_NAME_KINDS,
    BlocklistEntry,
    BlocklistSource,
    EntryKind,
    EntryState,
    ProtectedDomain,
    SourceKind,
    StopPageSettings,
    StopPageText,
)
from openhotline.blocking.names import EntryValueError, canonical_entry
from openhotline.blocking.versions import batched
from openhotline.lib.onerow import find_or_create
from openhotline.reports.models import ReportedUrl

ASSESSMENT_SOURCE = "Our assessment"


class BlocklistError(ValueError):
    """A blocklist change that cannot be made, with the reason."""


def get_source(hotline: Organisation, name: str, kind: str = SourceKind.IMPORT) -> BlocklistSource:
    source, _ = BlocklistSource.objects.get_or_create(
        hotline=hotline, name=name, defaults={"kind": kind}
    )
    return source


def find_active_entry(hotline: Organisation, kind: str, value: str) -> BlocklistEntry | None:
    return BlocklistEntry.objects.filter(
        hotline=hotline, kind=kind, value=value, state__in=ACTIVE_STATES
    ).first()


def do_propose_entry(
    hotline: Organisation,
    *,
    value: str,
    kind: str,
    source: BlocklistSource,
    reason: str = "",
    evidence: ReportedUrl | None = None,
    dedicated: bool = False,
    actor: User | None = None,
    verified_at: datetime | None = None,
) -> BlocklistEntry:
    """Propose a URL, a whole host or a whole domain; an entry already active is returned.

    A host- or domain-level entry needs the name marked as dedicated to abuse
    material, by the analyst or, for an imported list, by its source: only such
    entries reach the DNS exports, where they block the whole name.
    """
    try:
        value, host = canonical_entry(value, kind)
    except EntryValueError as exc:
        raise BlocklistError(str(exc)) from None
    if kind in WHOLE_NAME_KINDS and not (dedicated or source.kind == SourceKind.IMPORT):
        raise BlocklistError(
            (
                gettext(
                    "%(host)s: a whole host is blocked only when it is marked as dedicated "
                    "to abuse material"
                )
                if kind == EntryKind.HOST
                else gettext(
                    "%(host)s: a whole domain is blocked only when it is marked as dedicated "
                    "to abuse material"
                )
            )
            % {"host": host}
        )
    if evidence is not None and evidence.hotline_id != hotline.pk:
        raise BlocklistError(gettext("the evidence belongs to another hotline"))
    if source.hotline_id != hotline.pk:
        raise BlocklistError(gettext("the source belongs to another hotline"))
    now = timezone.now()

    def create() -> BlocklistEntry:
        entry = BlocklistEntry.objects.create(
            hotline=hotline,
            kind=kind,
            value=value,
            host=host,
            dedicated=kind in WHOLE_NAME_KINDS,
            source=source,
            reason=reason[:500],
            evidence=evidence,
            proposed_by=actor if actor is not None and actor.is_authenticated else None,
            proposed_at=now,
            first_verified_at=verified_at or now,
            last_verified_at=verified_at or now,
        )
        record(
            "blocklist.entry_proposed",
            actor=actor,
            organisation=hotline,
            obj=entry,
            detail={"kind": kind, "value": value, "source": source.name},
        )
        return entry

    with transaction.atomic():
        # Two proposals at once: ``unique_active_entry`` keeps one, the other gets it.
        entry, _ = find_or_create(lambda: find_active_entry(hotline, kind, value), create)
    return entry


def _require_second_person(entry: BlocklistEntry, actor: User, proposer_id: int | None) -> None:
    if not has_role(actor, entry.hotline, SENIOR_ANALYSTS_NOT_ADMINS):
        raise BlocklistError(
            gettext("%(user)s is not a senior analyst of this hotline")
            % {"user": actor.get_username()}
        )
    if proposer_id is not None and proposer_id == actor.pk:
        raise BlocklistError(
            gettext("four-eyes: %(user)s proposed entry %(code)s and cannot also approve it")
            % {"user": actor.get_username(), "code": entry.code}
        )


def do_approve_entry(entry: BlocklistEntry, *, actor: User) -> None:
    with transaction.atomic():
        entry = (
            BlocklistEntry.objects.select_for_update().select_related("hotline").get(pk=entry.pk)
        )
        if entry.state != EntryState.PROPOSED:
            raise BlocklistError(
                gettext("entry %(code)s is %(state)s, not proposed")
                % {"code": entry.code, "state": entry.state}
            )
        _require_second_person(entry, actor, entry.proposed_by_id)
        entry.state = EntryState.APPROVED
        entry.approved_by = actor
        entry.approved_at = timezone.now()
        entry.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
        record("blocklist.entry_approved", actor=actor, organisation=entry.hotline, obj=entry)


def do_reject_entry(entry: BlocklistEntry, *, actor: User, reason: str = "") -> None:
    """Withdraw a proposal (its proposer, or a senior analyst); it never went live."""
    with transaction.atomic():
        entry = (
            BlocklistEntry.objects.select_for_update().select_related("hotline").get(pk=entry.pk)
        )
        if entry.state != EntryState.PROPOSED:
            raise BlocklistError(
                gettext("entry %(code)s is %(state)s, not proposed")
                % {"code": entry.code, "state": entry.state}
            )
        if entry.proposed_by_id != actor.pk and not has_role(
            actor, entry.hotline, SENIOR_ANALYSTS_NOT_ADMINS
        ):
            raise BlocklistError(
                gettext("only its proposer or a senior analyst may reject a proposal")
            )
        _close(entry, reason or "proposal rejected")
        record(
            "blocklist.entry_rejected",
            actor=actor,
            organisation=entry.hotline,
            obj=entry,
            detail={"reason": reason},
        )


def do_propose_delisting(
    entry: BlocklistEntry, *, reason: str, actor: User | None = None
) -> BlocklistEntry:
    """Ask for an entry to leave the list (a re-check found the material gone, say).

    A mere proposal is withdrawn at once. An approved entry that is not yet
    published is withdrawn at once by a senior: taking it off a list that no
    provider has received harms nobody, and a hotline with one senior analyst
    must not wait for a second one that does not exist. A live entry (or an
    approved one withdrawn by anyone else) waits for a second person. Asking
    again while a request is pending changes nothing.
    """
    with transaction.atomic():
        entry = (
            BlocklistEntry.objects.select_for_update().select_related("hotline").get(pk=entry.pk)
        )
        if entry.state == EntryState.DELISTED or entry.delist_proposed_at is not None:
            return entry
        if entry.state == EntryState.PROPOSED or (
            entry.state == EntryState.APPROVED
            and actor is not None
            and actor.is_authenticated
            and has_role(actor, entry.hotline, SENIOR_ROLES)
        ):
            _close(entry, reason)
        else:
            entry.delist_reason = reason[:500]
            entry.delist_proposed_by = (
                actor if actor is not None and actor.is_authenticated else None
            )
            entry.delist_proposed_at = timezone.now()
            entry.save(
                update_fields=[
                    "delist_reason",
                    "delist_proposed_by",
                    "delist_proposed_at",
                    "updated_at",
                ]
            )
        record(
            "blocklist.delisting_proposed",
            actor=actor,
            organisation=entry.hotline,
            obj=entry,
            detail={"reason": reason},
        )
    return entry


def do_approve_delisting(entry: BlocklistEntry, *, actor: User) -> None:
    """Approve a delisting: an approved entry leaves now, a live one at the next publication."""
    with transaction.atomic():
        entry = (
            BlocklistEntry.objects.select_for_update().select_related("hotline").get(pk=entry.pk)
        )
        if not entry.awaits_delisting_approval():
            raise BlocklistError(
                gettext("entry %(code)s has no delisting waiting for approval")
                % {"code": entry.code}
            )
        if entry.state == EntryState.APPROVED and has_role(actor, entry.hotline, SENIOR_ROLES):
            # Not yet published: one senior withdraws it (see do_propose_delisting).
            pass
        else:
            _require_second_person(entry, actor, entry.delist_proposed_by_id)
        entry.delist_approved_by = actor
        entry.delist_approved_at = timezone.now()
        entry.save(update_fields=["delist_approved_by", "delist_approved_at", "updated_at"])
        if entry.state == EntryState.APPROVED:
            _close(entry, entry.delist_reason)
        record("blocklist.delisting_approved", actor=actor, organisation=entry.hotline, obj=entry)


def _close(entry: BlocklistEntry, reason: str) -> None:
    entry.state = EntryState.DELISTED
    entry.delisted_at = timezone.now()
    entry.delist_reason = reason[:500]
    entry.save(update_fields=["state", "delisted_at", "delist_reason", "updated_at"])


def do_record_verification(
    entry: BlocklistEntry, *, reachable: bool, still_illegal: bool, actor: User | None = None
) -> None:
    """Record a re-check of a listed entry; a dead or no longer illegal one is proposed for
    delisting, so the list does not fill with dead sites."""
    if reachable and still_illegal:
        with transaction.atomic():
            now = timezone.now()
            BlocklistEntry.objects.filter(pk=entry.pk).update(last_verified_at=now, updated_at=now)
            BlocklistEntry.objects.filter(pk=entry.pk, first_verified_at__isnull=True).update(
                first_verified_at=now
            )
            record("blocklist.entry_verified", actor=actor, organisation=entry.hotline, obj=entry)
        return
    reason = "re-check: no longer reachable" if not reachable else "re-check: no longer illegal"
    do_propose_delisting(entry, reason=reason, actor=actor)


def entries_due_for_verification(
    hotline: Organisation, *, older_than: timedelta
) -> QuerySet[BlocklistEntry]:
    """Live entries not verified for ``older_than``: the schedule of re-verification."""
    cutoff = timezone.now() - older_than
    return BlocklistEntry.objects.filter(
        hotline=hotline, state=EntryState.LIVE, last_verified_at__lt=cutoff
    ).order_by("last_verified_at")


@dataclass
class ImportResult:
    source: BlocklistSource
    created: int = 0
    already_listed: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


def do_import_entries(
    hotline: Organisation,
    rows: Iterable[ImportRow | ImportProblem],
    *,
    source_name: str,
    actor: User | None = None,
    batch_size: int = 2000,
) -> ImportResult:
    """Propose every entry of an imported list, in one transaction and one audit event.

    1. Take the source (kind "import": its domains count as marked dedicated).
    2. Canonicalise each row; a row that cannot be an entry becomes a problem
       with its line number, and the rest still go in.
    3. Skip values already active at this hotline, or repeated in the file.
    4. Insert the new proposals in batches; they then wait for approval.
    """
    proposer = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        source = get_source(hotline, source_name, SourceKind.IMPORT)
        result = ImportResult(source)
        seen = set(
            BlocklistEntry.objects.filter(hotline=hotline, state__in=ACTIVE_STATES)
            .values_list("kind", "value")
            .iterator(20000)
        )
        now = timezone.now()
        batch: list[BlocklistEntry] = []
        for row in rows:
            if isinstance(row, ImportProblem):
                result.problems.append(row)
                continue
            try:
                value, host = canonical_entry(row.value, row.kind)
            except EntryValueError as exc:
                result.problems.append(ImportProblem(row.line, f"{row.value}: {exc}"))
                continue
            if (row.kind, value) in seen:
                result.already_listed += 1
                continue
            seen.add((row.kind, value))
            batch.append(
                BlocklistEntry(
                    hotline=hotline,
                    kind=row.kind,
                    value=value,
                    host=host,
                    dedicated=row.kind in WHOLE_NAME_KINDS,
                    source=source,
                    reason=row.reason[:500],
                    proposed_by=proposer,
                    proposed_at=now,
                    first_verified_at=now,
                    last_verified_at=now,
                )
            )
            if len(batch) >= batch_size:
                result.created += _insert(batch)
        result.created += _insert(batch)
        record(
            "blocklist.imported",
            actor=actor,
            organisation=hotline,
            obj=source,
            detail={
                "source": source_name,
                "created": result.created,
                "already_listed": result.already_listed,
                "problems": len(result.problems),
            },
        )
    return result


def _insert(batch: list[BlocklistEntry]) -> int:
    count = len(batch)
    BlocklistEntry.objects.bulk_create(batch)
    batch.clear()
    return count


@dataclass
class BulkApproval:
    approved: int
    delistings: int
    skipped: int


def do_approve_all(hotline: Organisation, *, actor: User) -> BulkApproval:
    """Approve every waiting proposal and delisting that ``actor`` did not propose.

    The bulk path for imported lists: the same rules as ``do_approve_entry``,
    in one statement per kind and one audit event naming the count.
    """
    if not has_role(actor, hotline, SENIOR_ANALYSTS_NOT_ADMINS):
        raise BlocklistError(
            gettext("%(user)s is not a senior analyst of this hotline")
            % {"user": actor.get_username()}
        )
    now = timezone.now()
    with transaction.atomic():
        entries = BlocklistEntry.objects.filter(hotline=hotline)
        proposals = entries.filter(state=EntryState.PROPOSED)
        own = proposals.filter(proposed_by=actor).count()
        approved = proposals.exclude(proposed_by=actor).update(
            state=EntryState.APPROVED, approved_by=actor, approved_at=now, updated_at=now
        )
        pending = entries.filter(
            state__in=[EntryState.APPROVED, EntryState.LIVE],
            delist_proposed_at__isnull=False,
            delist_approved_at__isnull=True,
        )
        own += pending.filter(delist_proposed_by=actor).count()
        pending = pending.exclude(delist_proposed_by=actor)
        # Approved entries that never went live leave at once; live ones at publication.
        leaving_now = list(pending.filter(state=EntryState.APPROVED).values_list("id", flat=True))
        delistings = pending.update(
            delist_approved_by=actor, delist_approved_at=now, updated_at=now
        )
        for batch in batched(leaving_now):
            BlocklistEntry.objects.filter(id__in=batch).update(
                state=EntryState.DELISTED, delisted_at=now, updated_at=now
            )
        record(
            "blocklist.approved_all",
            actor=actor,
            organisation=hotline,
            object_type="blocking.blocklistentry",
            detail={"approved": approved, "delistings": delistings, "skipped_own": own},
        )
    return BulkApproval(approved, delistings, own)


# --- The list's settings: protected names and the stop page (admins) ---


def do_protect_name(hotline: Organisation, name: str, note: str, *, actor: User) -> bool:
    """Protect ``name`` (canonical) from ever being listed; False if it already was."""
    with transaction.atomic():
        _item, created = ProtectedDomain.objects.get_or_create(
            hotline=hotline, name=name, defaults={"note": note, "added_by": actor}
        )
        if created:
            record(
                "blocklist.protected_added",
                actor=actor,
                organisation=hotline,
                object_type="blocking.protecteddomain",
                object_id=name,
            )
    return created


def do_unprotect_name(item: ProtectedDomain, *, actor: User) -> None:
    with transaction.atomic():
        item.delete()
        record(
            "blocklist.protected_removed",
            actor=actor,
            organisation=item.hotline,
            object_type="blocking.protecteddomain",
            object_id=item.name,
        )


def do_save_stop_page(page_settings: StopPageSettings, *, actor: User) -> None:
    with transaction.atomic():
        page_settings.save()
        record("blocklist.stop_page_changed", actor=actor, organisation=page_settings.hotline)


def do_save_stop_page_text(text: StopPageText, *, actor: User) -> None:
    with transaction.atomic():
        text.save()
        record(
            "blocklist.stop_page_text_changed",
            actor=actor,
            organisation=text.hotline,
            detail={"language": text.language},
        )
