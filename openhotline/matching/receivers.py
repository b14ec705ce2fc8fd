"""Matching reacts to assessment and evidence without them knowing it.

- A classification in force feeds the hotline's own set (``ownset``).
- A stored item newly found on another reported URL (perhaps another hotline's)
  is matched again, so that hotline gets its pre-classification too
  (``media_stored``).
- An item whose hashing finished is matched (``media_hashed``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from openhotline.assessment.models import ItemStatus
from openhotline.assessment.signals import item_classification_in_force
from openhotline.evidence.models import HashState, UrlMedia
from openhotline.evidence.signals import media_hashed, media_stored

logger = logging.getLogger(__name__)


@receiver(item_classification_in_force, dispatch_uid="matching.feed_own_set")
def _on_classification_in_force(sender: Any, status: ItemStatus, **kwargs: Any) -> None:
    # Sent after the commit: the analyst's request must not fail because of us, so a
    # failure is handed to the task, which retries.
    from openhotline.matching.actions.ownset import do_feed_own_set
    from openhotline.matching.tasks import feed_own_set

    try:
        do_feed_own_set(status)
    except Exception:
        logger.exception("own hash set: feeding item status %s failed; queued", status.pk)
        feed_own_set.delay(status.pk)


@receiver(media_stored, dispatch_uid="matching.match_on_new_link")
def _on_media_stored(sender: Any, link: UrlMedia, **kwargs: Any) -> None:
    media_id = link.media_item_id
    # An item still waiting for its hashes is matched when hashing finishes.
    if link.media_item.hash_state == HashState.PENDING:
        return
    from openhotline.matching.tasks import match_media_item

    transaction.on_commit(lambda: match_media_item.delay(media_id))


@receiver(media_hashed, dispatch_uid="matching.match_on_hashed")
def _on_media_hashed(sender: Any, media_id: int, **kwargs: Any) -> None:
    # Sent after the hashes committed.
    from openhotline.matching.tasks import match_media_item

    match_media_item.delay(media_id)
