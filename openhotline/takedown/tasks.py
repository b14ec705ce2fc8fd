"""Background work of takedown: sending notices in batches, re-checking until removed."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from openhotline.reports.models import UrlState
from openhotline.takedown.actions.cases import RECHECK_TASK
from openhotline.takedown.actions.notices import send_due_notices
from openhotline.takedown.actions.removal import do_record_check, observe
from openhotline.takedown.models import CHECKED_STATES, CheckOutcome, TakedownCase
from openhotline.takedown.signals import url_still_online

logger = logging.getLogger(__name__)

OPEN_ILLEGAL = (UrlState.ILLEGAL, UrlState.NOTICE_SENT)


@shared_task(acks_late=True, name="openhotline.takedown.tasks.send_notices")
def send_notices() -> dict[str, int]:
    """Send what is due, grouped per contact (beat, every OPENHOTLINE_NOTICE_BATCH_MINUTES)."""
    run = send_due_notices()
    return {
        "sent": len(run.sent),
        "failed": len(run.failed),
        "attention": len(run.attention),
        "waiting_for_approval": run.waiting_for_approval,
        "busy": int(run.busy),
    }


@shared_task(acks_late=True, name="openhotline.takedown.tasks.recheck_due")
def recheck_due() -> int:
    """Queue a re-check of every open illegal URL whose time has come (beat).

    The next check time moves forward as the task is queued, so a slow
    queue does not get the same URL twice from the next sweep.
    """
    now = timezone.now()
    due = TakedownCase.objects.filter(
        state__in=CHECKED_STATES, next_check_at__lte=now, reported_url__state__in=OPEN_ILLEGAL
    ).values_list("pk", flat=True)
    ids = list(due[:1000])
    lease = now + timedelta(minutes=max(settings.OPENHOTLINE_RECHECK_CONFIRM_MINUTES, 10))
    TakedownCase.objects.filter(pk__in=ids).update(next_check_at=lease)
    for pk in ids:
        recheck_case.delay(pk)
    return len(ids)


@shared_task(acks_late=True, name=RECHECK_TASK, queue="crawl")
def recheck_case(case_id: int) -> str:
    """Re-crawl one case's URL and record what it showed.

    1. Crawl (nothing stored) and compare the media served with the hashes
       of the media classified illegal there.
    2. Record the check; the last of the confirming checks records removal.
    3. Still online: tell network (``url_still_online``), whose route may
       wait for a better trace (behind a CDN, or hosting unknown).
    """
    case = TakedownCase.objects.select_related("reported_url__hotline").filter(pk=case_id).first()
    if case is None or not case.is_checked() or case.reported_url.state not in OPEN_ILLEGAL:
        return "nothing to do"
    seen = observe(case.reported_url)
    case = do_record_check(case, seen)
    if seen.outcome == CheckOutcome.ONLINE and case.is_checked():
        url_still_online.send(sender=TakedownCase, case=case, address=seen.address)
    return str(seen.outcome)
