"""The crawl task, on the crawl queue: one reported URL per task, safe to run twice."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import F, Q
from django.utils import timezone

from openhotline.crawler import hostslots
from openhotline.crawler.actions import (
    do_finish_crawl,
    do_note_retry,
    do_skip_crawl,
    do_start_crawl,
)
from openhotline.crawler.models import UNFINISHED_STATES, CrawlRun, CrawlState, DomainRule
from openhotline.crawler.rdapcache import DbRdapCache
from openhotline.crawler.rules import rule_for
from openhotline.crawler.runner import Outcome, run_crawl, stored_errors
from openhotline.lib.onerow import find_or_create
from openhotline.lib.urlnorm import host_of
from openhotline.reports.actions import CRAWL_TASK
from openhotline.reports.models import ReportedUrl, UrlState

logger = logging.getLogger(__name__)

# A host slot's lease: renewed as the crawl makes progress, lost if the worker dies.
LEASE_SECONDS = 300
# A running crawl not heard of for this long was left by a worker that died.
STALE_SECONDS = 2 * LEASE_SECONDS
_NEW_CRAWL_STATES = frozenset({UrlState.NEW, UrlState.CRAWLING, UrlState.CRAWL_FAILED})


def _pick_run(reported_url: ReportedUrl, crawl_code: str | None) -> CrawlRun | None:
    """The run this task is for, or None when there is nothing (left) to do."""
    runs = CrawlRun.objects.filter(reported_url=reported_url)
    if crawl_code:
        run = runs.filter(code=crawl_code).first()
        return None if run is None or run.is_finished() else run
    run = runs.order_by("-created_at", "-pk").first()
    if run is not None:
        return None if run.is_finished() else run
    if reported_url.state not in _NEW_CRAWL_STATES:
        return None
    # Intake's send and the forgotten-crawl sweep can deliver two tasks at once:
    # ``one_unfinished_crawl_per_url`` gives them one run.
    run, _ = find_or_create(
        lambda: runs.filter(state__in=UNFINISHED_STATES).first(),
        lambda: CrawlRun.objects.create(reported_url=reported_url),
    )
    return run


@shared_task(
    bind=True,
    acks_late=True,
    name=CRAWL_TASK,
    max_retries=None,  # our own limits (attempts, host waits) are kept on the run
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
)
def crawl_reported_url(self: Task, reported_url_id: int, crawl_code: str | None = None) -> str:
    """Crawl a reported URL and move it on to assessment (or crawl_failed).

    1. Reload the URL and pick its run: a finished crawl is not repeated
       unless a re-crawl asked for a new run (`crawl_code`).
    2. A "do not crawl" domain rule ends it here.
    3. Take one of the host's slots, shared by all workers; when all are
       held, try again in a few seconds.
    4. Crawl (see runner.run_crawl). A passing failure of the page itself
       is tried again later, with a growing delay; anything else, or the
       last attempt, is recorded and the URL moves on. A bug in a page's
       handling records an error: the report is never lost.
    """
    reported_url = ReportedUrl.objects.select_related("hotline").filter(pk=reported_url_id).first()
    if reported_url is None:
        return "no such reported URL"
    run = _pick_run(reported_url, crawl_code)
    if run is None:
        return "nothing to do"
    stale = timezone.now() - timedelta(seconds=STALE_SECONDS)
    if run.state == CrawlState.RUNNING and run.updated_at > stale:
        raise self.retry(countdown=LEASE_SECONDS)  # another worker is on it; check back later
    host = reported_url.host or host_of(reported_url.url)
    rule = rule_for(reported_url.hotline, host)
    if rule is not None and rule.do_not_crawl:
        do_skip_crawl(run, reported_url, rule)
        return "skipped by a domain rule"
    lease = hostslots.acquire(host, settings.OPENHOTLINE_CRAWL_PER_HOST, LEASE_SECONDS)
    if lease is None:
        if run.host_waits >= settings.OPENHOTLINE_CRAWL_HOST_WAITS:
            reason = f"{host} stayed busy with other crawls; not crawled"
            do_finish_crawl(run, reported_url, fatal=reason, errors=[])
            return reason
        # updated_at too: a run waiting its turn is alive, not lost (see the sweep).
        CrawlRun.objects.filter(pk=run.pk).update(
            host_waits=F("host_waits") + 1, updated_at=timezone.now()
        )
        # Spread the waiters out, so they do not all come back at once.
        raise self.retry(countdown=random.uniform(5, 15))  # noqa: S311 - jitter, not a secret
    try:
        if not _claim(run):
            return "taken by another delivery"
        do_start_crawl(run, reported_url)
        final = run.attempts >= settings.OPENHOTLINE_CRAWL_ATTEMPTS
        outcome = _crawl(run, reported_url, rule, final, lease)
        if outcome.transient and not final:
            countdown = settings.OPENHOTLINE_CRAWL_RETRY_SECONDS * 2 ** (run.attempts - 1)
            do_note_retry(run, reported_url, outcome.fatal or "failed", countdown)
            raise self.retry(countdown=countdown)
        do_finish_crawl(run, reported_url, fatal=outcome.fatal, errors=stored_errors(outcome))
    finally:
        hostslots.release(lease)
    return "failed" if outcome.fatal else "done"


def _claim(run: CrawlRun) -> bool:
    """Take the run for this delivery, unless another delivery changed it since we read it.

    A crawl can be delivered twice at once (the sweep re-queues a run whose
    message it thinks lost while the original is still on its way); the
    conditional update lets exactly one of them start it.
    """
    return (
        CrawlRun.objects.filter(
            pk=run.pk, state=run.state, attempts=run.attempts, updated_at=run.updated_at
        ).update(updated_at=timezone.now())
        == 1
    )


def _crawl(
    run: CrawlRun,
    reported_url: ReportedUrl,
    rule: DomainRule | None,
    final: bool,
    lease: hostslots.Lease,
) -> Outcome:
    try:
        return run_crawl(
            run,
            reported_url,
            rule,
            final_attempt=final,
            heartbeat=lambda: hostslots.renew(lease, LEASE_SECONDS),
        )
    except (OperationalError, InterfaceError):
        raise  # the database is away: retried by Celery, the run stays as it is
    except DatabaseError as exc:
        logger.exception("crawl %s hit a database error", run.code)
        return Outcome(fatal=f"database error: {exc}")
    except Exception as exc:
        logger.exception("crawl %s failed", run.code)
        return Outcome(fatal=f"internal error: {type(exc).__name__}: {exc}")


@shared_task(name="openhotline.crawler.tasks.purge_rdap_cache")
def purge_rdap_cache() -> int:
    """Drop expired RDAP answers (run daily by beat)."""
    return DbRdapCache.purge_expired()


@shared_task(name="openhotline.crawler.tasks.queue_forgotten_crawls")
def queue_forgotten_crawls(limit: int = 1000) -> int:
    """Queue again the crawls whose task was lost (broker down or restarted, worker killed).

    Beat runs it every ``OPENHOTLINE_CRAWL_SWEEP_SECONDS``. Lost are:

    1. new URLs that never got a crawl run: intake's send failed, or the
       message was lost before any worker took it;
    2. queued runs untouched for ``OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS``:
       their retry (after a passing failure or a busy host) was lost;
    3. running runs not heard of for ``STALE_SECONDS``: their worker died
       and the broker no longer holds the message.

    A crawl still on its way may be queued a second time: the task does
    nothing for a finished run, and ``_claim`` lets one delivery start it.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS)
    never = list(
        ReportedUrl.objects.filter(
            state=UrlState.NEW, updated_at__lt=cutoff, crawl_runs__isnull=True
        ).values_list("pk", flat=True)[:limit]
    )
    stalled = list(
        CrawlRun.objects.filter(
            Q(state=CrawlState.QUEUED, updated_at__lt=cutoff)
            | Q(state=CrawlState.RUNNING, updated_at__lt=now - timedelta(seconds=STALE_SECONDS))
        ).values_list("reported_url_id", "code", "pk")[:limit]
    )
    # Touch what is queued again, so the next sweep leaves it a full interval: a long
    # but healthy queue gets one more message per URL per interval, not one per sweep.
    ReportedUrl.objects.filter(pk__in=never, state=UrlState.NEW).update(updated_at=now)
    CrawlRun.objects.filter(pk__in=[pk for _, _, pk in stalled], state=CrawlState.QUEUED).update(
        updated_at=now
    )
    for reported_url_id in never:
        crawl_reported_url.delay(reported_url_id)
    for reported_url_id, code, _ in stalled:
        crawl_reported_url.delay(reported_url_id, code)
    return len(never) + len(stalled)
