"""The outbox: messages to peers, delivered in order by workers, with retries.

At-least-once transport, exactly-once effect: a message is sent until the
peer answers 200, and the peer keeps the ids of the messages it has taken
(``InboxMessage``), so a message sent twice (a lost answer, a worker killed
after sending) has its effect once.

One worker at a time delivers to a peer: ``deliver_to_peer`` takes the
peer's lease (a compare-and-set on ``Peer.lease_until``, so it works the
same on SQLite and PostgreSQL) and renews it per message. Messages are sent
in the order they were made; one that fails holds back the later messages
with the same ordering key (the same URL) until it goes, while other URLs'
messages go on. A peer that cannot be reached ends the round; the beat's
``deliver_due`` starts the next one when the back-off has passed.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.evidence.store import get_store
from openhotline.federation.client import PeerError, call
from openhotline.federation.models import (
    UNDELIVERED,
    MessageType,
    OutboxMessage,
    OutboxState,
    OutgoingForward,
    Peer,
    PeerState,
)
from openhotline.network.models import Forward, ForwardState
from openhotline.reports.actions import add_timeline

logger = logging.getLogger(__name__)

# The delivery task, defined in tasks.py under this name; ``queue_delivery`` is its one sender.
DELIVER_TASK = "openhotline.federation.tasks.deliver_peer"
INBOX_PATH = "federation/v1/inbox"
LEASE_SECONDS = 120
BATCH = 200


def put_in_outbox(
    peer: Peer,
    type: str,  # noqa: A002 - the message's type, as the protocol names it
    body: dict[str, Any],
    *,
    hotline: Organisation | None,
    ordering_key: str = "",
) -> OutboxMessage:
    """Write a message for ``peer`` in the caller's transaction; delivery starts after commit."""
    message = OutboxMessage.objects.create(
        peer=peer, type=type, body=body, hotline=hotline, ordering_key=ordering_key
    )
    queue_delivery(peer.pk)
    return message


def queue_delivery(peer_id: int) -> None:
    transaction.on_commit(lambda: _send_delivery(peer_id))


def _send_delivery(peer_id: int) -> None:
    # The row is committed: a broker outage only delays it until the beat's deliver_due.
    from openhotline.celery import app

    try:
        app.send_task(DELIVER_TASK, args=[peer_id])
    except Exception:
        logger.exception("could not queue delivery to peer %s", peer_id)


def envelope(message: OutboxMessage) -> dict[str, Any]:
    body = message.body
    if message.type == MessageType.MEDIA and "package_blob" in body:
        # The package waits in the evidence store (encrypted at rest), not in the row.
        body = {k: v for k, v in body.items() if k != "package_blob"}
        body["package"] = base64.b64encode(get_store().get(message.body["package_blob"])).decode()
    return {
        "id": message.message_id,
        "type": message.type,
        "created": message.created_at.isoformat(),
        "body": body,
    }


def _take_lease(peer_id: int) -> str | None:
    now = timezone.now()
    token = secrets.token_hex(16)
    taken = (
        Peer.objects.filter(pk=peer_id, state=PeerState.ACTIVE)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_token=token, lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )
    return token if taken else None


def _renew_lease(peer_id: int, token: str) -> bool:
    until = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    return bool(Peer.objects.filter(pk=peer_id, lease_token=token).update(lease_until=until))


def _release_lease(peer_id: int, token: str) -> None:
    Peer.objects.filter(pk=peer_id, lease_token=token).update(lease_token="", lease_until=None)


def deliver_to_peer(peer_id: int) -> dict[str, int]:
    """Send the peer's due messages, in order; safe to run twice at once (one waits out)."""
    token = _take_lease(peer_id)
    if token is None:
        return {"delivered": 0, "failed": 0, "busy": 1}
    delivered = failed = 0
    try:
        peer = Peer.objects.get(pk=peer_id)
        held: set[str] = set()
        now = timezone.now()
        waiting = list(peer.outbox.filter(state__in=UNDELIVERED).order_by("pk")[:BATCH])
        for message in waiting:
            key = message.ordering_key
            if key and key in held:
                continue
            if message.next_attempt_at > now:
                if key:
                    held.add(key)
                continue
            if not _renew_lease(peer_id, token):
                break  # another worker took over after our lease ran out
            try:
                answer = call(peer, "POST", INBOX_PATH, envelope(message))
                if answer.get("ok") is not True:
                    raise PeerError(f"not taken: {str(answer)[:200]}", 200)
            except PeerError as exc:
                failed += 1
                _mark_failed(message, str(exc))
                if key:
                    held.add(key)
                if exc.status == 0:
                    break  # the peer is down: the rest waits for the next round
                continue
            _mark_delivered(message)
            delivered += 1
    finally:
        _release_lease(peer_id, token)
    return {"delivered": delivered, "failed": failed, "busy": 0}


def _mark_failed(message: OutboxMessage, error: str) -> None:
    message.attempts += 1
    wait = message.backoff(
        settings.OPENHOTLINE_FEDERATION_RETRY_SECONDS,
        settings.OPENHOTLINE_FEDERATION_RETRY_MAX_SECONDS,
    )
    OutboxMessage.objects.filter(pk=message.pk, state__in=UNDELIVERED).update(
        state=OutboxState.FAILING,
        attempts=message.attempts,
        next_attempt_at=timezone.now() + wait,
        last_error=error[:500],
    )
    logger.warning(
        "delivery of %s to peer %s failed: %s", message.message_id, message.peer_id, error
    )


def _mark_delivered(message: OutboxMessage) -> None:
    now = timezone.now()
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            state=OutboxState.DELIVERED, delivered_at=now, attempts=message.attempts + 1
        )
        outgoing = (
            OutgoingForward.objects.filter(message=message)
            .select_related("reported_url", "peer")
            .first()
        )
        if outgoing is not None:
            Forward.objects.filter(pk=outgoing.forward_id).update(
                state=ForwardState.DELIVERED, sent_at=now
            )
            add_timeline(
                f"Delivered to {outgoing.peer.name} ({outgoing.peer.country})",
                kind="federation.delivered",
                reported_url=outgoing.reported_url,
                detail={"peer": outgoing.peer.code, "message": message.message_id},
            )


def due_peers() -> list[int]:
    """Peers with a message whose time has come (the beat's ``deliver_due``)."""
    return list(
        OutboxMessage.objects.filter(
            state__in=UNDELIVERED, next_attempt_at__lte=timezone.now(), peer__state=PeerState.ACTIVE
        )
        .values_list("peer_id", flat=True)
        .distinct()
    )


def do_retry_message(message: OutboxMessage, *, actor: User) -> None:
    """An administrator's "try now": the message is due at once (given up ones too)."""
    with transaction.atomic():
        message.state = OutboxState.PENDING if message.attempts == 0 else OutboxState.FAILING
        message.next_attempt_at = timezone.now()
        message.save(update_fields=["state", "next_attempt_at"])
        record(
            "federation.delivery_retried",
            actor=actor,
            organisation=message.hotline,
            obj=message,
            object_id=message.message_id,
            detail={"peer": message.peer.name, "type": message.type},
        )
        queue_delivery(message.peer_id)


def do_give_up_message(message: OutboxMessage, *, actor: User) -> None:
    """An administrator gives up a delivery: it is never sent (later ones are no longer held)."""
    with transaction.atomic():
        message.state = OutboxState.GIVEN_UP
        message.save(update_fields=["state"])
        record(
            "federation.delivery_given_up",
            actor=actor,
            organisation=message.hotline,
            obj=message,
            object_id=message.message_id,
            detail={"peer": message.peer.name, "type": message.type, "error": message.last_error},
        )
        queue_delivery(message.peer_id)
