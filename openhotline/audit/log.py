"""Writing and verifying the audit log.

``record`` is called inside the ``do_*`` action that makes the change, in
the same transaction, so an audited change and its event commit together
or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from openhotline.audit.keys import EventKey, event_key
from openhotline.audit.models import (
    CHAIN_KEYED_ACTION,
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
)

if TYPE_CHECKING:
    from openhotline.accounts.models import Organisation, User
    from openhotline.audit.checkpoints import Checkpoint


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
    2. Build the event with the head's hash as ``prev_hash`` and key its hash.
    3. Store the event and move the head, in the caller's transaction.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "code", None) or obj.pk)
    key = event_key()
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
            key_id=key.key_id,
        )
        event.hash = event.compute_hash(key.secret)
        event.save()
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass
class ChainProblem:
    seq: int
    reason: str


def verify_chain(
    batch_size: int = 2000,
    checkpoints: Iterable[Checkpoint] = (),
    key: EventKey | None = None,
) -> Iterator[ChainProblem | int]:
    """Walk the chain in order; yield the number checked so far, or the first problem.

    1. Each event's ``seq`` must follow on and its ``prev_hash`` must be the
       previous event's hash (catches deleted or inserted rows).
    2. Each event's hash must be the HMAC of its canonical form under the
       audit key (catches edited rows, even with every later hash
       recomputed by someone without the key). Unkeyed events are accepted
       only before the keyed "chain keyed" event that closes them, and it
       must name their count and last hash.
    3. The chain head must point at the last event (catches a tail removed
       without moving the head).
    4. Every signed checkpoint must match: its event exists and has its
       hash (catches a tail removed with the head moved back, or a chain
       rebuilt below the checkpoint).
    """
    key = key or event_key()
    by_seq: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        by_seq.setdefault(checkpoint.count, []).append(checkpoint)
    for checkpoint in by_seq.get(0, []):
        if checkpoint.head != GENESIS_HASH:
            yield ChainProblem(0, f"checkpoint on line {checkpoint.line} has a bad empty head")
            return
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    unkeyed = 0  # events before the cut-over to keyed hashes still awaiting their marker
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            problem = _check_event(event, expected_seq, expected_prev, unkeyed, key)
            if problem is not None:
                yield problem
                return
            unkeyed = unkeyed + 1 if not event.key_id else 0
            for checkpoint in by_seq.get(event.seq, []):
                if checkpoint.head != event.hash:
                    yield ChainProblem(
                        event.seq,
                        f"differs from the checkpoint of {checkpoint.at} "
                        f"(line {checkpoint.line}); the chain was rewritten",
                    )
                    return
            expected_prev = event.hash
            expected_seq += 1
            last_seq = event.seq
            checked += 1
        yield checked
    if unkeyed:
        yield ChainProblem(last_seq, f"the last {unkeyed} events are not keyed")
        return
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != last_seq or head.last_hash != expected_prev):
        yield ChainProblem(last_seq + 1, f"chain head expects #{head.last_seq}; events removed")
        return
    beyond = [c for seq, found in by_seq.items() if seq > last_seq for c in found]
    if beyond:
        first = min(beyond, key=lambda c: (c.count, c.line))
        yield ChainProblem(
            last_seq + 1,
            f"log truncated: the checkpoint of {first.at} (line {first.line}) "
            f"counts {first.count} events, the log has {last_seq}",
        )


def _check_event(
    event: AuditEvent, expected_seq: int, expected_prev: str, unkeyed: int, key: EventKey
) -> ChainProblem | None:
    if event.seq != expected_seq:
        return ChainProblem(expected_seq, f"event #{expected_seq} is missing")
    if event.prev_hash != expected_prev:
        return ChainProblem(event.seq, "does not link to the event before it")
    if not event.key_id:
        if event.compute_legacy_hash() != event.hash:
            return ChainProblem(event.seq, "content does not match its hash (edited)")
        return None
    if event.key_id != key.key_id:
        return ChainProblem(event.seq, f"is keyed with unknown key {event.key_id}")
    if event.compute_hash(key.secret) != event.hash:
        return ChainProblem(event.seq, "content does not match its keyed hash (edited)")
    if unkeyed:
        # The keyed event after unkeyed ones must be the cut-over marker that
        # vouches for them; anything else means unkeyed events were slipped in.
        closes = event.detail if event.action == CHAIN_KEYED_ACTION else {}
        vouched = (
            unkeyed == event.seq - 1
            and closes.get("unkeyed_events") == unkeyed
            and closes.get("unkeyed_head") == event.prev_hash
        )
        if not vouched:
            return ChainProblem(
                event.seq - 1, f"the {unkeyed} events before #{event.seq} are not keyed"
            )
    return None
