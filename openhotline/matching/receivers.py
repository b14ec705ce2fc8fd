"""Matching reacts to assessment and evidence without them knowing it.

- A classification in force feeds the hotline's own set (``ownset``).
- A stored item newly found on another reported URL (perhaps another hotline's)
  is matched again, so that hotline gets its pre-classification too
  (``media_stored``).
- An item whose hashing finished is matched (``media_hashed``).
- Assessment's four-eyes rule asks whether an item is known material at a
  hotline (``known_material_asked``): it is when matched exactly to an
  active hash set the hotline trusts. Answered from the rows as they are
  now, so a set made inactive or untrusted stops counting at once.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver

from openhotline.assessment.models import ItemStatus
from openhotline.assessment.signals import item_classification_in_force, known_material_asked
from openhotline.evidence.models import HashState, UrlMedia
from openhotline.evidence.signals import media_hashed, media_stored
from openhotline.matching.models import EXACT_KINDS, Match, Trust

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


@receiver(known_material_asked, dispatch_uid="matching.known_by_exact_trusted_match")
def _known_by_an_exact_trusted_match(
    sender: Any, hotline_id: int, media_item_id: int, **kwargs: Any
) -> bool:
    """The item matched exactly an active trusted hash set this hotline may use."""
    return (
        Match.objects.filter(
            media_item_id=media_item_id,
            kind__in=EXACT_KINDS,
            distance=0,
            hash_set__trust=Trust.TRUSTED,
            hash_set__active=True,
        )
        .filter(Q(hash_set__owner__isnull=True) | Q(hash_set__owner_id=hotline_id))
        .exists()
    )
