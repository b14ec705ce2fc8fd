"""What federation does when the network app asks or tells it something.

- ``peer_channel_asked(country)``: answer True when an active peer runs the
  hotline of that country (routing then forwards there instead of e-mailing).
- ``forwarded_to_peer(forward)``: put the forward in the outbox, in routing's
  transaction.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from openhotline.federation.actions.forwards import do_queue_forward, peer_for_country
from openhotline.network.models import Forward
from openhotline.network.signals import forwarded_to_peer, peer_channel_asked


@receiver(peer_channel_asked, dispatch_uid="federation.peer_serves_country")
def _peer_serves_country(sender: Any, country: str, **kwargs: Any) -> bool:
    return peer_for_country(country) is not None


@receiver(forwarded_to_peer, dispatch_uid="federation.queue_forward")
def _on_forwarded_to_peer(sender: Any, forward: Forward, **kwargs: Any) -> None:
    # In routing's transaction: an error here rolls the forward back, and the
    # network sweep routes the URL again.
    do_queue_forward(forward)
