"""Signals of the network app, so that it need not know the apps above it.

- ``peer_channel_asked(country)``: a question, asked while routing and
  forwarding, in the caller's transaction: can an installation peered with
  this one take forwards for ``country``? A member hotline outside this
  installation is then reached that way instead of by e-mail (or INTERPOL,
  when it has no address). It is reachable when any receiver answers True.
  Receivers: federation (``receivers._peer_serves_country``: an active,
  unpaused peer of that country).
- ``forwarded_to_peer(forward)``: an event, sent by
  ``actions.forwarding.do_forward_external`` in its transaction when the
  question above said yes, instead of queuing the e-mail. Receivers:
  federation (``receivers._on_forwarded_to_peer``: writes the outbox row in
  the same transaction, so the forward and its delivery commit together).
"""

from __future__ import annotations

from django.dispatch import Signal

peer_channel_asked = Signal()
forwarded_to_peer = Signal()


def peer_takes(country: str) -> bool:
    """Whether a peered installation takes forwards for ``country`` (the question above)."""
    if not country:
        return False
    answers = peer_channel_asked.send(sender=None, country=country.upper())
    return any(answer is True for _receiver, answer in answers)
