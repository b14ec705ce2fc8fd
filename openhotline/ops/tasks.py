from __future__ import annotations

import time

from celery import Task, shared_task
from django.db import transaction
from django.utils import timezone

from openhotline.audit.log import record
from openhotline.ops.models import SelfCheck


@shared_task(bind=True, acks_late=True, name="openhotline.ops.tasks.run_selfcheck")
def run_selfcheck(self: Task, check_id: int) -> None:
    """Complete a self-check, exactly once however often it is delivered."""
    hostname = self.request.hostname or "unknown"
    with transaction.atomic():
        check = SelfCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None or check.is_done():
            return
        check.attempts += 1
        check.started_by = hostname
        check.save(update_fields=["attempts", "started_by"])
    # The hold lets an operator (or the integration test) kill a worker mid-task.
    time.sleep(check.hold_seconds)
    with transaction.atomic():
        check = SelfCheck.objects.select_for_update().get(pk=check_id)
        if check.is_done():
            return
        check.completed_at = timezone.now()
        check.completed_by = hostname
        check.save(update_fields=["completed_at", "completed_by"])
        record(
            "selfcheck.completed",
            obj=check,
            detail={"worker": hostname, "attempts": check.attempts},
        )
