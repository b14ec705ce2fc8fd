"""Moved material: when a crawl finds a case's illegal media at another URL
(``media_stored``), note it.
A verdict changed to not illegal (``url_verdict_changed``, a shared item
re-classified): close the URL's open case, so no notice goes to the hoster.

Connected in ``TakedownConfig.ready``. Never raises: the crawl that stored
the media is not to fail over bookkeeping.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from openhotline.assessment.signals import url_verdict_changed
from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS
from openhotline.evidence.models import UrlMedia
from openhotline.evidence.signals import media_stored
from openhotline.reports.models import ReportedUrl
from openhotline.takedown.actions.cases import FINISHED_STATES, do_close_case
from openhotline.takedown.actions.removal import record_moves
from openhotline.takedown.models import CaseState, TakedownCase

logger = logging.getLogger(__name__)


@receiver(media_stored, dispatch_uid="takedown.moves_on_url_media")
def _on_media_stored(sender: Any, link: UrlMedia, **kwargs: Any) -> None:
    try:
        cases = (
            TakedownCase.objects.filter(reported_url__media_links__media_item=link.media_item_id)
            .exclude(reported_url=link.reported_url_id)
            .exclude(state=CaseState.CLOSED)
            .select_related("reported_url__hotline", "hotline")
            .distinct()
        )
        for case in cases:
            record_moves(case)
    except Exception:
        logger.exception("looking for moved material of media link %s failed", link.pk)


@receiver(url_verdict_changed, dispatch_uid="takedown.close_on_verdict_change")
def _on_url_verdict_changed(
    sender: Any, reported_url: ReportedUrl, before: str, after: str, **kwargs: Any
) -> None:
    if after in ILLEGAL_VERDICTS:
        return
    try:
        for case in TakedownCase.objects.filter(reported_url=reported_url).exclude(
            state__in=FINISHED_STATES
        ):
            do_close_case(case, actor=None, reason=f"the verdict is now {after}")
    except Exception:
        logger.exception("closing the takedown case of reported URL %s failed", reported_url.pk)
