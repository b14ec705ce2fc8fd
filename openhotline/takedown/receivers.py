"""Moved material: when a crawl finds a case's illegal media at another URL, note it.

Connected in ``TakedownConfig.ready``. Never raises: the crawl that stored
the media is not to fail over bookkeeping.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from openhotline.evidence.models import UrlMedia
from openhotline.takedown.models import CaseState, TakedownCase
from openhotline.takedown.removal import record_moves

logger = logging.getLogger(__name__)


@receiver(post_save, sender=UrlMedia, dispatch_uid="takedown.moves_on_url_media")
def _on_url_media(sender: Any, instance: UrlMedia, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    try:
        cases = (
            TakedownCase.objects.filter(
                reported_url__media_links__media_item=instance.media_item_id
            )
            .exclude(reported_url=instance.reported_url_id)
            .exclude(state=CaseState.CLOSED)
            .select_related("reported_url__hotline", "hotline")
            .distinct()
        )
        for case in cases:
            record_moves(case)
    except Exception:
        logger.exception("looking for moved material of media link %s failed", instance.pk)
