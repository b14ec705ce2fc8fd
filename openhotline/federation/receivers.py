"""What federation does when the network app asks or tells it something.

- ``peer_channel_asked(country)``: answer True when an active peer runs the
  hotline of that country (routing then forwards there instead of e-mailing).
- ``forwarded_to_peer(forward)``: put the forward in the outbox, in routing's
  transaction.
- ``url_assessed`` (assessment) and ``case_removed`` (takedown): push the
  progress of a URL a peer forwarded us at once, instead of waiting for the
  beat's poll. Federation's receivers are connected after network's, so the
  status after an assessment carries the police referral routing made.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from openhotline.assessment.signals import url_assessed
from openhotline.federation.actions.forwards import do_queue_forward, peer_for_country
from openhotline.federation.actions.progress import push_progress
from openhotline.network.models import Forward
from openhotline.network.signals import forwarded_to_peer, peer_channel_asked
from openhotline.reports.models import ReportedUrl
from openhotline.takedown.models import TakedownCase
from openhotline.takedown.signals import case_removed

logger = logging.getLogger(__name__)


@receiver(peer_channel_asked, dispatch_uid="federation.peer_serves_country")
def _peer_serves_country(sender: Any, country: str, **kwargs: Any) -> bool:
    return peer_for_country(country) is not None


@receiver(forwarded_to_peer, dispatch_uid="federation.queue_forward")
def _on_forwarded_to_peer(sender: Any, forward: Forward, **kwargs: Any) -> None:
    # In routing's transaction: an error here rolls the forward back, and the
    # network sweep routes the URL again.
    do_queue_forward(forward)


def _push_quietly(reported_url_id: int) -> None:
    # The change is committed: a failure here waits for the beat's poll.
    try:
        push_progress(reported_url_id)
    except Exception:
        logger.exception("pushing the progress of reported URL %s failed", reported_url_id)


@receiver(url_assessed, dispatch_uid="federation.progress_on_assessment")
def _on_url_assessed(sender: Any, reported_url: ReportedUrl, **kwargs: Any) -> None:
    _push_quietly(reported_url.pk)


@receiver(case_removed, dispatch_uid="federation.progress_on_removal")
def _on_case_removed(sender: Any, case: TakedownCase, **kwargs: Any) -> None:
    # Sent in takedown's transaction, before the URL's removal is saved: after the commit.
    url_id = case.reported_url_id
    transaction.on_commit(lambda: _push_quietly(url_id))
