"""Writing and verifying the audit log.

``record`` is called inside the ``do_*`` action that makes the change, in
the same transaction, so an audited change and its event commit together
or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from openhotline.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from openhotline.accounts.models import Organisation, User


def record(
    action: str,
    *,
    actor: User | None = None,
    organisation: Organisation | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain.

    1. Lock the chain head (a row lock on PostgreSQL; SQLite's immediate
       transactions already serialise writers).
    2. Build the event with the head's hash as ``prev_hash`` and hash it.
    3. Store the event and move the head, in the caller's transaction.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "code", None) or obj.pk)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        actor_label = ""
        if actor is not None and actor.is_authenticated:
            actor_label = actor.get_username()
        event = AuditEvent(
            seq=head.last_seq + 1,
            created_at=timezone.now(),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_label=actor_label,
            organisation=organisation,
            organisation_label=organisation.name if organisation is not None else "",
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass
class ChainProblem:
    seq: int
    reason: str


def verify_chain(batch_size: int = 2000) -> Iterator[ChainProblem | int]:
    """Walk the chain in order; yield the number checked so far, or the first problem.

    1. Each event's stored hash must equal the hash of its canonical form
       (catches edited rows).
    2. Each event's ``prev_hash`` must equal the previous event's hash and
       its ``seq`` must follow on (catches deleted or inserted rows).
    3. The chain head must point at the last event (catches a truncated tail).
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                yield ChainProblem(expected_seq, f"event #{expected_seq} is missing")
                return
            if event.prev_hash != expected_prev:
                yield ChainProblem(event.seq, "does not link to the event before it")
                return
            if event.compute_hash() != event.hash:
                yield ChainProblem(event.seq, "content does not match its hash (edited)")
                return
            expected_prev = event.hash
            expected_seq += 1
            last_seq = event.seq
            checked += 1
        yield checked
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != last_seq or head.last_hash != expected_prev):
        yield ChainProblem(last_seq + 1, f"chain head expects #{head.last_seq}; events removed")
