"""Background work of the audit log: the scheduled checkpoint."""

from __future__ import annotations

import logging

from celery import shared_task

from openhotline.audit.checkpoints import write_checkpoint as write_one

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, name="openhotline.audit.tasks.write_checkpoint")
def write_checkpoint() -> int:
    """Write a signed checkpoint to the configured sinks (beat schedule).

    Safe to run twice: a second checkpoint of the same state is one more
    line that says the same thing.
    """
    checkpoint, sinks = write_one()
    if not sinks:
        logger.warning("audit checkpoint not written: no OPENHOTLINE_AUDIT_CHECKPOINT_* sink set")
    return checkpoint.count
