"""Taking a message from a peer once: its id is remembered with its effect, in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from openhotline.federation.actions.forwards import MessageRefused, do_receive_forward
from openhotline.federation.actions.media import do_receive_media, do_receive_media_request
from openhotline.federation.actions.progress import do_receive_status
from openhotline.federation.models import InboxMessage, MessageType, Peer

HANDLERS = {
    MessageType.FORWARD: do_receive_forward,
    MessageType.STATUS: do_receive_status,
    MessageType.MEDIA_REQUEST: do_receive_media_request,
    MessageType.MEDIA: do_receive_media,
}


def do_receive_message(peer: Peer, envelope: Any) -> dict[str, Any]:
    """Apply a message once; the same id again answers as the first time did.

    1. Check the envelope: ``id``, ``type`` and ``body``.
    2. In one transaction, write the ``InboxMessage`` row (unique per peer
       and id) and apply the message. Two deliveries at once: the second
       waits on the first's row, then finds it and changes nothing.
    """
    if not isinstance(envelope, dict):
        raise MessageRefused("the message is not a JSON object")
    message_id, kind, body = envelope.get("id"), envelope.get("type"), envelope.get("body")
    if not isinstance(message_id, str) or not 8 <= len(message_id) <= 40:
        raise MessageRefused("'id' must be a string of 8 to 40 characters")
    if kind not in HANDLERS or not isinstance(body, dict):
        raise MessageRefused(f"unknown message type {kind!r}, or no 'body' object")
    seen = InboxMessage.objects.filter(peer=peer, message_id=message_id).first()
    if seen is not None:
        return {"ok": True, "duplicate": True, **seen.result}
    try:
        with transaction.atomic():
            row = InboxMessage.objects.create(peer=peer, message_id=message_id, type=kind)
            result = HANDLERS[kind](peer, body)
            row.result = result
            row.save(update_fields=["result"])
    except IntegrityError:
        seen = InboxMessage.objects.filter(peer=peer, message_id=message_id).first()
        if seen is None:
            raise
        return {"ok": True, "duplicate": True, **seen.result}
    return {"ok": True, "duplicate": False, **result}
