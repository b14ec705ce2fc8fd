from __future__ import annotations

from django.db import transaction

from openhotline.ops.models import SelfCheck
from openhotline.ops.tasks import run_selfcheck


def do_queue_selfcheck(hold_seconds: float = 0.0) -> SelfCheck:
    with transaction.atomic():
        check = SelfCheck.objects.create(hold_seconds=hold_seconds)
        transaction.on_commit(lambda: run_selfcheck.delay(check.pk))
    return check
