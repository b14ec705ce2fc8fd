"""Crawl one reported URL: the page, everything it shows, fetched safely and in parallel.

Pure Python (no Django): `crawl(url, policy)` returns a `CrawlResult` and
never raises for anything a hostile site can do; failures become recorded
errors next to whatever partial evidence was obtained. All traffic goes
through `safehttp`, so the address checks and limits apply to every page,
frame, stylesheet and media item.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from openhotline.crawler.results import (
    CrawlError,
    CrawlProgress,
    CrawlResult,
    MediaItem,
    PageEvidence,
)
from openhotline.lib.htmlcharset import decode_text
from openhotline.lib.htmlmedia import MediaRef, extract_css_media, extract_media
from openhotline.lib.httpbody import is_media_mime, sniff_mime
from openhotline.lib.safehttp import FetchError, FetchPolicy, FetchResult, SafeFetcher
from openhotline.lib.samesite import same_site

MediaSink = Callable[[MediaItem, bytes], None]
ProgressCallback = Callable[[CrawlProgress], None]

_PROGRESS_EVERY = 0.25  # seconds between progress callbacks (the last one always fires)


@dataclass(frozen=True)
class CrawlPolicy:
    """How far and how hard one crawl may go (limits from settings or domain rules)."""

    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    max_page_bytes: int = 10 * 1024 * 1024
    max_media_bytes: int = 50 * 1024 * 1024
    max_media_per_page: int = 1000
    max_media_total: int = 5000
    max_documents: int = 100  # pages, frames, viewer pages and stylesheets fetched
    iframe_depth: int = 2
    viewer_depth: int = 1
    max_viewer_links_per_page: int = 50
    stylesheet_depth: int = 2
    max_data_uri_bytes: int = 10 * 1024 * 1024
    workers: int = 16
    per_host_concurrency: int = 16
    keep_bytes: bool = True
    # Bytes one crawl may fetch (received or decoded, whichever is more); past it
    # the remaining media are recorded as skipped. Fetches already running finish.
    byte_budget: int = 512 * 1024 * 1024
    # Same-site links to other pages (a gallery's next pages): how many links
    # deep from the reported page, and how many such pages per crawl at most.
    follow_depth: int = 1
    max_followed_pages: int = 20
    # Whether a same-site page may be followed, by its URL: the domain rule of
    # another host of the site may forbid it (crawler/rules.py). None: all may.
    may_follow: Callable[[str], bool] | None = None


@dataclass(frozen=True)
class _Doc:
    url: str
    kind: str
    depth: int
    parent: str | None
    page: str  # the reported page or followed page this document belongs to
    frames: int = 0
    viewers: int = 0
    css: int = 0
    follows: int = 0


class _Run:
    """Mutable state of one crawl, shared by its fetch threads under one lock."""

    def __init__(self, url: str, sink: MediaSink | None, progress: ProgressCallback | None) -> None:
        self.result = CrawlResult(url=url, started_at=datetime.now(tz=UTC))
        self.lock = threading.Lock()
        self.sink = sink
        self.progress = progress
        self.seen_docs: set[str] = set()
        self.seen_media: set[str] = set()
        self.media: list[tuple[int, MediaItem]] = []
        self.futures: list[Future[None]] = []
        self.scheduled = 0
        self.last_progress = 0.0
        self.bytes_used = 0
        self.budget_reported = False
        self.docs_over_budget = 0
        self.followed = 0
        # Same-site links found on this level's pages: (pagination score, page that links it, url).
        self.links: list[tuple[int, _Doc, str]] = []

    def error(
        self, url: str, stage: str, exc: BaseException | str, *, name: str | None = None
    ) -> None:
        name = name or (type(exc).__name__ if isinstance(exc, BaseException) else "Limit")
        with self.lock:
            self.result.errors.append(CrawlError(url, stage, name, str(exc)))

    def spend(self, outcome: FetchResult | FetchError) -> None:
        """Count a fetch against the crawl's byte budget."""
        if isinstance(outcome, FetchResult):
            with self.lock:
                self.bytes_used += max(outcome.bytes_received, len(outcome.body))

    def report(self, final: bool = False) -> None:
        if self.progress is None:
            return
        with self.lock:
            now = time.monotonic()
            if not final and now - self.last_progress < _PROGRESS_EVERY:
                return
            self.last_progress = now
            counts = CrawlProgress(
                pages=len(self.result.pages),
                media_found=self.result.media_found,
                media_fetched=len(self.media),
            )
        self.progress(counts)


class Crawler:
    """A reusable crawler: one thread pool, keep-alive pools and per-host limits.

    Several crawls may run at once on one Crawler (from several threads), and
    then share its per-host concurrency limit, as a worker process should.
    """

    def __init__(self, policy: CrawlPolicy) -> None:
        self.policy = policy
        self.fetcher = SafeFetcher(policy.fetch)
        self._executor = ThreadPoolExecutor(policy.workers, thread_name_prefix="crawl-media")
        # Pages and stylesheets get threads of their own: queued behind hundreds
        # of media fetches, they would stall every crawl's next level.
        self._doc_executor = ThreadPoolExecutor(
            max(2, policy.workers // 4), thread_name_prefix="crawl-doc"
        )
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        """Stop the threads and close pooled connections."""
        self._doc_executor.shutdown(wait=True, cancel_futures=True)
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.fetcher.close()

    def __enter__(self) -> Crawler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def crawl(
        self,
        url: str,
        *,
        sink: MediaSink | None = None,
        progress: ProgressCallback | None = None,
    ) -> CrawlResult:
        """Crawl `url` and return what was found; never raises for site behaviour.

        Steps:
        1. Fetch the URL; if the bytes are media, it is the only item.
        2. Otherwise, level by level (reported page, then frames, viewer pages
           and stylesheets up to their depths, and same-site pages up to the
           follow depth and page budget, pagination first), fetch documents
           in parallel and find their media.
        3. Fetch each new media item in parallel as soon as it is found
           (deduplicated, capped per page and per crawl), hash it, hand it
           to `sink`.
        4. Wait for the media, sort everything into discovery order.
        """
        run = _Run(url, sink, progress)
        t0 = time.monotonic()
        level = [_Doc(url, "page", 0, None, url)]
        run.seen_docs.add(url)
        while level:
            futures = [self._doc_executor.submit(self._fetch_doc, doc) for doc in level]
            docs, level = level, []
            for doc, future in zip(docs, futures, strict=True):
                outcome = future.result()
                try:
                    level.extend(self._process(run, doc, outcome))
                except Exception as exc:  # one bad document must not end the crawl
                    run.error(doc.url, "parse", exc)
            level.extend(self._follow(run))
        for pending in as_completed(list(run.futures)):
            pending.result()
        if run.docs_over_budget:
            run.error(
                url,
                "limit",
                f"{run.docs_over_budget} pages, frames or stylesheets not fetched: the crawl's"
                f" byte budget of {self.policy.byte_budget} bytes is used up",
            )
        result = run.result
        result.media = [item for _, item in sorted(run.media, key=lambda pair: pair[0])]
        result.elapsed = time.monotonic() - t0
        run.report(final=True)
        return result

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            slot = self._hosts.get(host)
            if slot is None:
                slot = threading.BoundedSemaphore(self.policy.per_host_concurrency)
                self._hosts[host] = slot
            return slot

    def _fetch(self, url: str, max_bytes: int, referer: str | None) -> FetchResult | FetchError:
        headers = {"Referer": referer} if referer else None
        with self._host_slot(url):
            try:
                return self.fetcher.fetch(url, max_bytes=max_bytes, headers=headers)
            except FetchError as exc:
                return exc
            except Exception as exc:  # a library bug still only fails this URL
                return FetchError(f"unexpected {type(exc).__name__}: {exc}", url)

    def _fetch_doc(self, doc: _Doc) -> FetchResult | FetchError:
        return self._fetch(doc.url, self._doc_limit(doc), doc.parent)

    def _doc_limit(self, doc: _Doc) -> int:
        if doc.kind == "page":  # the reported URL may itself be a (large) video
            return max(self.policy.max_page_bytes, self.policy.max_media_bytes)
        return self.policy.max_page_bytes

    def _process(self, run: _Run, doc: _Doc, outcome: FetchResult | FetchError) -> list[_Doc]:
        run.spend(outcome)
        evidence = PageEvidence(
            url=doc.url, kind=doc.kind, depth=doc.depth, parent=doc.parent, page=doc.page
        )
        with run.lock:
            run.result.pages.append(evidence)
        if isinstance(outcome, FetchError):
            evidence.error = f"{type(outcome).__name__}: {outcome}"
            run.error(doc.url, doc.kind, outcome)
            run.report()
            return []
        _fill_evidence(evidence, outcome)
        if outcome.error is not None:
            run.error(outcome.final_url, doc.kind, outcome.error)
        if doc.kind != "stylesheet" and is_media_mime(outcome.mime):
            # The reported URL, a frame or a "viewer" link may be the media itself.
            run.result.is_media = run.result.is_media or doc.kind == "page"
            kind = "video" if outcome.mime == "application/ogg" else outcome.mime.split("/")[0]
            ref = MediaRef(url=doc.url, kind=kind, source="url" if doc.kind == "page" else doc.kind)
            evidence.body = b""  # kept once, as the media item
            if doc.kind == "linked":  # a link to a media file belongs to the page that links it
                evidence.page = doc.parent or doc.url
            if ref.key in run.seen_media:
                return []
            run.seen_media.add(ref.key)
            with run.lock:
                run.result.media_found += 1
                seq = run.scheduled
                run.scheduled += 1
            found_on = doc.parent or doc.url
            limit = self._doc_limit(doc)
            self._store_media(run, seq, ref, found_on, evidence.page, outcome, limit)
            return []
        if doc.kind == "stylesheet":
            css = decode_text(outcome.body, outcome.content_type, css=True)
            found = extract_css_media(css, outcome.final_url, self.policy.max_data_uri_bytes)
            self._schedule(run, evidence, found.media)
            if doc.css >= self.policy.stylesheet_depth:
                return []
            return self._children(run, doc, "stylesheet", found.imports, css=doc.css + 1)
        if not _looks_like_html(outcome):
            return []
        if len(outcome.body) > self.policy.max_page_bytes:
            outcome.body = outcome.body[: self.policy.max_page_bytes]
            evidence.body, evidence.truncated = outcome.body, True
        page = extract_media(
            outcome.body,
            outcome.final_url,
            outcome.content_type,
            max_data_uri_bytes=self.policy.max_data_uri_bytes,
        )
        evidence.title, evidence.encoding = page.title, page.encoding
        self._schedule(run, evidence, page.main_media if doc.kind == "viewer" else page.media)
        if doc.kind == "viewer":
            return []
        policy = self.policy
        children = self._children(run, doc, "stylesheet", page.stylesheets, css=1)
        if doc.frames < policy.iframe_depth:
            children += self._children(run, doc, "iframe", page.iframes, frames=doc.frames + 1)
        if doc.viewers < policy.viewer_depth:
            links = page.viewer_links[: policy.max_viewer_links_per_page]
            if len(page.viewer_links) > len(links):
                count = len(page.viewer_links)
                run.error(doc.url, "limit", f"{count} viewer links, followed {len(links)}")
            children += self._children(run, doc, "viewer", links, viewers=doc.viewers + 1)
        following = policy.follow_depth > doc.follows and policy.max_followed_pages > 0
        if doc.kind in ("page", "linked") and following:
            if doc.kind == "page" or same_site(outcome.final_url, doc.url):
                # A followed page that redirected off the site is not the gallery's.
                run.links.extend((link.score, doc, link.url) for link in page.page_links)
        return children

    def _follow(self, run: _Run) -> list[_Doc]:
        """This level's same-site links to follow: pagination first, within the page budget."""
        links, run.links = run.links, []
        links.sort(key=lambda link: -link[0])  # stable: pages in order, links in page order
        budget = self.policy.max_followed_pages
        may_follow = self.policy.may_follow
        out: list[_Doc] = []
        left_out = refused = 0
        for _, parent, url in links:
            if url in run.seen_docs:
                continue
            if may_follow is not None and not may_follow(url):
                run.seen_docs.add(url)  # counted once, however many pages link it
                refused += 1
                continue
            if run.followed >= budget:
                left_out += 1
                continue
            if self._budget_used_up(run, url):
                run.seen_docs.add(url)
                run.docs_over_budget += 1
                continue
            if len(run.seen_docs) >= self.policy.max_documents:
                run.error(url, "limit", f"more than {self.policy.max_documents} documents")
                break
            run.seen_docs.add(url)
            run.followed += 1
            out.append(
                _Doc(url, "linked", parent.depth + 1, parent.url, url, follows=parent.follows + 1)
            )
        if left_out:
            run.error(
                run.result.url,
                "limit",
                f"{left_out} more same-site pages not followed (page budget {budget} per crawl)",
            )
        if refused:
            run.error(
                run.result.url,
                "rule",
                f"{refused} same-site pages not followed: their host's domain rule forbids it",
                name="DomainRule",
            )
        return out

    def _children(
        self, run: _Run, doc: _Doc, kind: str, urls: list[str], **depths: int
    ) -> list[_Doc]:
        out: list[_Doc] = []
        for url in urls:
            if url in run.seen_docs:
                continue
            if len(run.seen_docs) >= self.policy.max_documents:
                run.error(url, "limit", f"more than {self.policy.max_documents} documents")
                break
            run.seen_docs.add(url)
            if self._budget_used_up(run, url):
                run.docs_over_budget += 1
                continue
            inherited = {"frames": doc.frames, "viewers": doc.viewers, "css": doc.css}
            depths = {**inherited, "follows": doc.follows, **depths}
            out.append(_Doc(url, kind, doc.depth + 1, doc.url, doc.page, **depths))
        return out

    def _schedule(self, run: _Run, evidence: PageEvidence, refs: list[MediaRef]) -> None:
        policy = self.policy
        fresh = [ref for ref in refs if ref.key not in run.seen_media]
        run.seen_media.update(ref.key for ref in fresh)
        evidence.media_found = len(refs)
        with run.lock:
            run.result.media_found += len(fresh)
            room = max(0, min(policy.max_media_per_page, policy.max_media_total - run.scheduled))
            take = fresh[:room]
            skipped = len(fresh) - len(take)
            run.result.media_skipped += skipped
            start = run.scheduled
            run.scheduled += len(take)
        if skipped:
            run.error(
                evidence.url,
                "limit",
                f"{len(fresh)} media found, {len(take)} fetched (limit per page"
                f" {policy.max_media_per_page}, per crawl {policy.max_media_total})",
            )
        for seq, ref in enumerate(take, start=start):
            if ref.data is not None:
                limit = policy.max_data_uri_bytes
                self._store_media(run, seq, ref, evidence.url, evidence.page, None, limit)
            else:
                future = self._executor.submit(
                    self._fetch_media, run, seq, ref, evidence.url, evidence.page
                )
                with run.lock:
                    run.futures.append(future)
        run.report()

    def _fetch_media(self, run: _Run, seq: int, ref: MediaRef, found_on: str, page: str) -> None:
        if self._over_budget(run, seq, ref, found_on, page):
            return
        limit = self.policy.max_media_bytes
        outcome = self._fetch(ref.url, limit, found_on)
        run.spend(outcome)
        self._store_media(run, seq, ref, found_on, page, outcome, limit)

    def _budget_used_up(self, run: _Run, url: str) -> bool:
        """Whether the crawl's byte budget is used up; the first time, one error says so.

        Pages, frames and stylesheets not yet fetched are not fetched past it
        (followed gallery pages included), any more than media are.
        """
        budget = self.policy.byte_budget
        with run.lock:
            used = run.bytes_used
            if used < budget:
                return False
            first = not run.budget_reported
            run.budget_reported = True
        if first:  # one line for the crawl; each skipped item carries the reason itself
            run.error(url, "limit", f"byte budget of {budget} bytes used up after {used}")
        return True

    def _over_budget(self, run: _Run, seq: int, ref: MediaRef, found_on: str, page: str) -> bool:
        """Past the crawl's byte budget, record the item as skipped instead of fetching it."""
        if not self._budget_used_up(run, ref.url):
            return False
        budget = self.policy.byte_budget
        with run.lock:
            used = run.bytes_used
            run.result.media_skipped += 1
        reason = f"skipped: the crawl's byte budget of {budget} bytes is used up ({used} fetched)"
        item = MediaItem(url=ref.url, kind=ref.kind, source=ref.source, found_on=found_on)
        item.page = page
        item.error, item.skipped = reason, True
        with run.lock:
            run.media.append((seq, item))
        run.report()
        return True

    def _store_media(
        self,
        run: _Run,
        seq: int,
        ref: MediaRef,
        found_on: str,
        page: str,
        outcome: FetchResult | FetchError | None,
        limit: int,
    ) -> None:
        """Hash one media item and hand it to the sink, if it arrived whole.

        A truncated, failed or over-limit fetch is recorded as an error with
        its sizes (received, decoded, limit, declared length), and its partial
        bytes are dropped here: they are never evidence.
        """
        item = MediaItem(url=ref.url, kind=ref.kind, source=ref.source, found_on=found_on)
        item.page, item.limit = page, limit
        data = ref.data or b""
        if isinstance(outcome, FetchError):
            item.error = f"{type(outcome).__name__}: {outcome}"
            run.error(ref.url, "media", outcome)
        elif outcome is not None:
            data = outcome.body
            item.final_url, item.status = outcome.final_url, outcome.status
            item.declared_type, item.address = outcome.content_type, outcome.address
            item.redirects, item.truncated = outcome.redirects, outcome.truncated
            item.received, item.declared_length = outcome.bytes_received, _declared_length(outcome)
            incomplete = _incomplete(outcome, item.declared_length)
            if incomplete is not None:
                name, message = incomplete
                item.truncated = True
                item.error = f"{name}: {message}; {item.sizes(len(data))}"
                run.error(ref.url, "media", item.error, name=name)
                item.size, item.mime = len(data), sniff_mime(data)
                outcome.body = data = b""  # let the partial body go now, not with the crawl
                with run.lock:
                    run.media.append((seq, item))
                run.report()
                return
            if outcome.status >= 400:
                item.error = f"HTTP {outcome.status}"
        if not isinstance(outcome, FetchError):
            item.size, item.sha256 = len(data), hashlib.sha256(data).hexdigest()
            item.mime = sniff_mime(data)
            if item.error is None and not is_media_mime(item.mime):
                item.error = f"not an image, video or audio file (content is {item.mime})"
            if self.policy.keep_bytes:
                item.data = data
            if run.sink is not None:
                try:
                    run.sink(item, data)
                except Exception as exc:  # a storage failure must not lose the crawl
                    run.error(ref.url, "sink", exc)
        with run.lock:
            run.media.append((seq, item))
        run.report()


def _declared_length(res: FetchResult) -> int | None:
    raw = res.header("content-length")
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def _incomplete(res: FetchResult, declared: int | None) -> tuple[str, str] | None:
    """Why the body is not whole (error name, message), or None when it is."""
    if res.error is not None:
        return type(res.error).__name__, str(res.error)
    if res.truncated:
        return "FetchTruncated", "the body was cut short"
    if declared is not None and res.bytes_received < declared:
        return "FetchTruncated", "fewer bytes arrived than the Content-Length declared"
    return None


def _fill_evidence(evidence: PageEvidence, res: FetchResult) -> None:
    evidence.final_url, evidence.status = res.final_url, res.status
    evidence.headers, evidence.redirects = res.headers, res.redirects
    evidence.body, evidence.mime = res.body, res.mime
    evidence.fetched_at, evidence.elapsed = res.started_at, res.elapsed
    evidence.address, evidence.tls, evidence.truncated = res.address, res.tls, res.truncated
    if res.error is not None:
        evidence.error = f"{type(res.error).__name__}: {res.error}"


def _looks_like_html(res: FetchResult) -> bool:
    # The header may lie either way; bytes that are not media and not clearly
    # another format are parsed (a parse of plain text finds nothing, harmlessly).
    if res.mime == "text/html":
        return True
    declared = (res.content_type or "").lower()
    return res.mime in ("text/plain", "application/xml") or (
        "html" in declared and not is_media_mime(res.mime)
    )


def crawl(
    url: str,
    policy: CrawlPolicy,
    *,
    sink: MediaSink | None = None,
    progress: ProgressCallback | None = None,
) -> CrawlResult:
    """Crawl one URL with a throwaway `Crawler` (see `Crawler.crawl`)."""
    with Crawler(policy) as crawler:
        return crawler.crawl(url, sink=sink, progress=progress)
