"""Background work of the workspace: priority recomputes and claim housekeeping.

``schedule_recompute`` is how the receivers ask for a rescore: it sends
``recompute_priorities`` once per transaction, after it commits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from celery import shared_task
from django.db import transaction

from openhotline.assessment.actions.claims import do_expire_claims
from openhotline.assessment.priority import BATCH, compute_scores
from openhotline.assessment.queue import QUEUE_STATES
from openhotline.reports.models import ReportedUrl

logger = logging.getLogger(__name__)


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


# --- recomputing after events, once per transaction ---------------------------


class _Pending(threading.local):
    ids: set[int]
    flush: Callable[[], None] | None = None


_pending = _Pending()


def schedule_recompute(url_ids: Iterable[int]) -> None:
    """Recompute these URLs' scores after the current transaction commits.

    Many events in one transaction (a crawl storing 200 media) queue one task:
    the ids collect in a per-thread set with one commit callback. A callback
    that is no longer waiting (it ran, or its transaction rolled back and
    dropped it) starts a new set.
    """
    connection = transaction.get_connection()
    waiting = _pending.flush is not None and any(
        func is _pending.flush for _, func, _ in connection.run_on_commit
    )
    if waiting:
        _pending.ids.update(url_ids)
        return
    ids: set[int] = set(url_ids)
    _pending.ids = ids
    _pending.flush = lambda: _send(ids)
    transaction.on_commit(_pending.flush)


def _send(ids: set[int]) -> None:
    if _pending.flush is not None and _pending.ids is ids:
        _pending.flush = None  # ran: the next event starts a new set
    if not ids:
        return
    try:
        recompute_priorities.delay(sorted(ids))
    except Exception:
        # The change itself is committed; the hourly recompute catches up.
        logger.exception("could not queue the priority recompute of %d URLs", len(ids))
