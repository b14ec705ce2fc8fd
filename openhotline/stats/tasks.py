"""Background work of the statistics: the nightly rebuild of the facts."""

from __future__ import annotations

import logging

from celery import shared_task

from openhotline.stats.actions import do_rebuild_facts

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, name="openhotline.stats.tasks.rebuild_facts")
def rebuild_facts() -> None:
    """Recompute every fact (idempotent: running it twice writes the same rows)."""
    written = do_rebuild_facts()
    logger.info("stats: facts rebuilt: %s", written)
