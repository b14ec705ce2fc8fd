"""Background work of the workspace: priority recomputes and claim housekeeping."""

from __future__ import annotations

from celery import shared_task

from openhotline.assessment.claims import do_expire_claims
from openhotline.assessment.priority import BATCH, compute_scores
from openhotline.assessment.queue import QUEUE_STATES
from openhotline.reports.models import ReportedUrl


@shared_task(acks_late=True, name="openhotline.assessment.tasks.recompute_priorities")
def recompute_priorities(url_ids: list[int]) -> int:
    """Score these URLs again (after an event changed what their rules look at)."""
    return len(compute_scores(url_ids))


@shared_task(acks_late=True, name="openhotline.assessment.tasks.recompute_open_priorities")
def recompute_open_priorities(hotline_id: int | None = None) -> int:
    """Score every URL waiting for assessment (hourly: the report-age rule moves with time).

    Walks the URLs by primary key in batches, so memory stays flat at any size.
    """
    urls = ReportedUrl.objects.filter(state__in=QUEUE_STATES)
    if hotline_id is not None:
        urls = urls.filter(hotline_id=hotline_id)
    done = 0
    last = 0
    while True:
        batch = list(urls.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not batch:
            return done
        compute_scores(batch)
        done += len(batch)
        last = batch[-1]


@shared_task(acks_late=True, name="openhotline.assessment.tasks.expire_claims")
def expire_claims() -> int:
    return do_expire_claims()
