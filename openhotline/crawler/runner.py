"""One crawl of a reported URL, with its rows: the body of the crawl task.

The engine fetches on its own threads; everything that touches the
database (storing media, progress counters, page evidence) happens on the
calling thread, fed through a bounded queue. So a slow store slows the
fetching down instead of filling memory, and no thread but this one needs
a database connection.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from openhotline.crawler.actions import do_record_hosting, do_record_pages
from openhotline.crawler.engine import Crawler, CrawlPolicy
from openhotline.crawler.models import CrawlRun, DomainRule, error_entries
from openhotline.crawler.policy import hosting_services, overrides_for, site_crawl_policy
from openhotline.crawler.rdapcache import DbRdapCache
from openhotline.crawler.render import render_page
from openhotline.crawler.results import (
    CrawlError,
    CrawlProgress,
    CrawlResult,
    MediaItem,
    PageEvidence,
)
from openhotline.evidence.actions import do_check_storage, do_store_blob, do_store_media
from openhotline.lib.httpbody import is_media_mime
from openhotline.reports.models import ReportedUrl

logger = logging.getLogger(__name__)

# Failures of the reported page that may pass: worth another try later.
TRANSIENT_ERRORS = frozenset({"FetchTimeout", "FetchConnectError", "FetchProtocolError"})
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
_FLUSH_SECONDS = 0.5


@dataclass
class Outcome:
    """How the attempt went: `fatal` when the reported page itself could not be had."""

    fatal: str | None = None
    transient: bool = False
    errors: list[CrawlError] = field(default_factory=list)


class MediaStore:
    """Media and counters of one run, written from the calling thread only."""

    def __init__(self, run: CrawlRun, reported_url: ReportedUrl, heartbeat: Callable[[], object]):
        self.run = run
        self.reported_url = reported_url
        self.heartbeat = heartbeat
        self.errors: list[CrawlError] = []
        self.digests: set[str] = set()
        self.progress = CrawlProgress(0, 0, 0)
        self.last_flush = 0.0

    def media(self, item: MediaItem, data: bytes) -> None:
        # A cut-short body is not the file the page showed: never evidence.
        if not item.is_whole() or not data or not is_media_mime(item.mime):
            return
        if item.sha256 in self.digests:
            return
        try:
            _, created = do_store_media(
                data,
                mime=item.mime,
                reported_url=self.reported_url,
                source_url=(item.final_url or item.url)[:2000],
                found_in=item.source[:50],
                page_url=item.page[:2000] if item.page != self.reported_url.url else "",
            )
        except Exception as exc:  # a storage failure loses this item, not the crawl
            logger.exception("storing %s failed", item.url)
            self.errors.append(CrawlError(item.url, "store", type(exc).__name__, str(exc)))
            return
        self.digests.add(item.sha256)
        self.run.media_stored += 1
        self.run.media_new += int(created)

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_flush < _FLUSH_SECONDS:
            return
        self.last_flush = now
        run, counts = self.run, self.progress
        run.pages, run.media_found = counts.pages, counts.media_found
        run.media_fetched = max(run.media_fetched, counts.media_fetched)
        CrawlRun.objects.filter(pk=run.pk).update(
            pages=run.pages,
            media_found=run.media_found,
            media_fetched=run.media_fetched,
            media_stored=run.media_stored,
            media_new=run.media_new,
            updated_at=timezone.now(),
        )
        self.heartbeat()


def _crawl_in_background(
    crawler: Crawler, url: str, store: MediaStore, on_progress: Callable[[CrawlProgress], None]
) -> CrawlResult:
    """Run the engine on a thread and store what it finds here as it comes.

    Steps:
    1. Start the crawl on a thread; its media sink and progress callback
       only put messages on a bounded queue.
    2. Here, take messages off the queue: store each media item, update
       the progress counters (at most twice a second).
    3. When the crawl thread says it is done, return its result (or raise
       what it raised).
    """
    messages: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=64)
    abandoned = threading.Event()
    outcome: dict[str, Any] = {}

    def put(message: tuple[str, Any]) -> None:
        while not abandoned.is_set():
            try:
                messages.put(message, timeout=0.5)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            outcome["result"] = crawler.crawl(
                url,
                sink=lambda item, data: put(("media", (item, data))),
                progress=lambda counts: put(("progress", counts)),
            )
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc
        finally:
            put(("done", None))

    thread = threading.Thread(target=work, name="crawl-run", daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = messages.get()
            if kind == "done":
                break
            if kind == "media":
                store.media(*payload)
            else:
                on_progress(payload)
            store.flush()
    finally:
        abandoned.set()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result: CrawlResult = outcome["result"]
    return result


def run_crawl(
    run: CrawlRun,
    reported_url: ReportedUrl,
    rule: DomainRule | None,
    *,
    final_attempt: bool,
    heartbeat: Callable[[], object],
) -> Outcome:
    """Crawl, render if called for, trace the hosting; record it all on `run`.

    A transient failure of the reported page returns early (unless this is
    the final attempt), so that the task can try again later.
    """
    policy = site_crawl_policy(reported_url.hotline, reported_url.url, rule)
    store = MediaStore(run, reported_url, heartbeat)

    def on_progress(counts: CrawlProgress) -> None:
        store.progress = counts

    with Crawler(policy) as crawler:
        result = _crawl_in_background(crawler, reported_url.url, store, on_progress)
    store.progress = CrawlProgress(len(result.pages), result.media_found, len(result.media))
    store.flush(force=True)
    outcome = Outcome(errors=[*result.errors, *store.errors])
    _judge(result, outcome)
    if outcome.transient and not final_attempt:
        return outcome
    do_record_pages(run, result.pages)
    if outcome.fatal is None and not result.is_media and _wants_render(run):
        store.flush(force=True)
        _render(run, reported_url, policy, store, outcome)
    store.flush(force=True)
    _trace(run, reported_url, result, rule, policy, outcome)
    store.flush(force=True)
    if run.media_stored:
        _check_storage(reported_url)
    run.error_count = len(outcome.errors)
    return outcome


def _check_storage(reported_url: ReportedUrl) -> None:
    try:
        do_check_storage(reported_url.hotline)
    except Exception:  # the alarm is advice; the crawl's evidence is already kept
        logger.exception("storage check of hotline %s failed", reported_url.hotline_id)


def _judge(result: CrawlResult, outcome: Outcome) -> None:
    fatal = result.fatal_error
    if fatal is not None:
        outcome.fatal = f"{fatal.error}: {fatal.message}"
        outcome.transient = fatal.error in TRANSIENT_ERRORS
        return
    status = result.pages[0].status if result.pages else None
    if status in TRANSIENT_STATUSES:
        outcome.fatal, outcome.transient = f"the page answered HTTP {status}", True


def _wants_render(run: CrawlRun) -> bool:
    mode = settings.OPENHOTLINE_CRAWL_RENDER
    return mode == "always" or (mode == "when-no-media" and run.media_stored == 0)


def _render(
    run: CrawlRun,
    reported_url: ReportedUrl,
    policy: CrawlPolicy,
    store: MediaStore,
    outcome: Outcome,
) -> None:
    chromium = settings.OPENHOTLINE_CHROMIUM_PATH
    if not os.access(chromium, os.X_OK):
        outcome.errors.append(
            CrawlError(
                reported_url.url, "render", "RenderUnavailable", f"no Chromium at {chromium}"
            )
        )
        return
    rendered = render_page(
        reported_url.url,
        policy,
        chromium=chromium,
        timeout=settings.OPENHOTLINE_CRAWL_RENDER_TIMEOUT,
    )
    outcome.errors.extend(e for e in rendered.errors if e.error != "RenderError")
    if rendered.error:
        outcome.errors.append(CrawlError(reported_url.url, "render", "RenderError", rendered.error))
    for item, data in rendered.media:
        store.progress = CrawlProgress(
            store.progress.pages, store.progress.media_found + 1, store.progress.media_fetched + 1
        )
        store.media(item, data)
        store.flush()
    if rendered.screenshot:
        run.screenshot = do_store_blob(rendered.screenshot, mime="image/png")
    run.rendered = rendered.error is None
    run.save(update_fields=["screenshot", "rendered", "updated_at"])
    if rendered.html:
        page = PageEvidence(
            url=reported_url.url,
            kind="rendered",
            depth=0,
            parent=None,
            final_url=rendered.final_url,
            body=rendered.html,
            mime="text/html",
            title=rendered.title,
            elapsed=rendered.elapsed,
        )
        do_record_pages(run, [page], first_seq=run.page_records.count())


def _trace(
    run: CrawlRun,
    reported_url: ReportedUrl,
    result: CrawlResult,
    rule: DomainRule | None,
    policy: CrawlPolicy,
    outcome: Outcome,
) -> None:
    first = result.pages[0] if result.pages else None
    final_url = (first.final_url if first is not None else "") or reported_url.url
    host = (urlsplit(final_url).hostname or reported_url.host or "").lower()
    if not host:
        return
    # Through Tor (or any proxy that resolves names) a local DNS lookup would leak the name.
    leaks = host.endswith(".onion") or bool(
        policy.fetch.proxy and policy.fetch.proxy_resolves_names
    )
    services = hosting_services(DbRdapCache())
    try:
        trace = services.trace(
            host,
            first.address if first is not None else None,
            overrides_for(rule),
            use_dns=not leaks,
        )
    except Exception as exc:  # the trace is one part of the evidence; keep the rest
        logger.exception("hosting trace of %s failed", host)
        outcome.errors.append(CrawlError(final_url, "hosting", type(exc).__name__, str(exc)))
        return
    finally:
        services.close()
    if host.endswith(".onion"):
        trace.notes.append("A Tor onion service: it has no hosting country.")
    outcome.errors.extend(CrawlError(final_url, "hosting", "TraceError", e) for e in trace.errors)
    do_record_hosting(run, reported_url, trace)


def stored_errors(outcome: Outcome) -> list[dict[str, str]]:
    return error_entries(outcome.errors)
