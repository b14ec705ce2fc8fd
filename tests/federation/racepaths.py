"""What the federation race tests run in several processes at once (tests/support/racers.py)."""

from __future__ import annotations

from typing import Any


def deliver(peer_id: int) -> dict[str, int]:
    from openhotline.federation.actions.outbox import deliver_to_peer

    return deliver_to_peer(peer_id)


def receive(peer_id: int, envelope: dict[str, Any]) -> str:
    from openhotline.federation.actions.inbox import do_receive_message
    from openhotline.federation.models import Peer

    return str(do_receive_message(Peer.objects.get(pk=peer_id), envelope)["url"])
