"""What the blocklist does when a URL's verdict in force changes.

Connected in ``BlockingConfig.ready``. A URL no longer illegal
(``url_verdict_changed``: a shared item was re-classified and confirmed) has
its entries proposed for delisting: a mere proposal is withdrawn at once, an
approved or live entry waits for a second person (``do_propose_delisting``).
Never raises: the verdict change is committed already; a re-check of the
entry catches what is missed here.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from openhotline.assessment.signals import url_verdict_changed
from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS
from openhotline.blocking.actions.entries import do_propose_delisting
from openhotline.blocking.models import ACTIVE_STATES, BlocklistEntry
from openhotline.reports.models import ReportedUrl

logger = logging.getLogger(__name__)


@receiver(url_verdict_changed, dispatch_uid="blocking.delist_on_verdict_change")
def _on_url_verdict_changed(
    sender: Any, reported_url: ReportedUrl, before: str, after: str, **kwargs: Any
) -> None:
    if after in ILLEGAL_VERDICTS:
        return
    try:
        for entry in BlocklistEntry.objects.filter(
            evidence_id=reported_url.pk, state__in=ACTIVE_STATES
        ):
            do_propose_delisting(entry, reason=f"assessed {after} after a shared item changed")
    except Exception:
        logger.exception("delisting the entries of reported URL %s failed", reported_url.pk)
