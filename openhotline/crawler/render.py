"""Render a page in headless Chromium, for the media that only JavaScript shows.

Playwright drives Debian's Chromium (never a browser it downloads). The
browser itself never touches the network: every request it makes is
intercepted and fetched by `safehttp` (checked addresses at every redirect
hop, no DNS rebinding, size and time limits), and the answer handed back to
the page. Redirects are followed by safehttp, not by the browser: a request
that follows a redirect answered by the interceptor would not be intercepted
again. Requests the handler does not see (WebRTC, a missed WebSocket, such a
redirect) meet a host resolver that resolves nothing and a proxy that does
not exist, so they fail rather than leak.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from openhotline.crawler.engine import CrawlPolicy
from openhotline.crawler.results import CrawlError, MediaItem
from openhotline.lib.httpbody import is_media_mime
from openhotline.lib.safehttp import FetchError, FetchRefused, FetchResult, SafeFetcher

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Defence in depth behind the request interception (see the module docstring).
ISOLATION_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
)
_DROP_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}
)
_SCROLL = """async (steps) => {
  const el = document.scrollingElement || document.documentElement;
  for (let i = 0; i < steps; i++) {
    const before = el.scrollTop;
    window.scrollBy(0, window.innerHeight);
    await new Promise((done) => setTimeout(done, 150));
    if (el.scrollTop === before) break;
  }
  window.scrollTo(0, 0);
  return el.scrollHeight;
}"""
# 1280 × 12000 = 15.4 Mpx, under the image decode limit (lib/imagedecode.py), so the
# screenshot's own preview is never refused.
MAX_SCREENSHOT_HEIGHT = 12000
MAX_REQUESTS = 2000


@dataclass
class RenderResult:
    """What the browser saw; `error` is set when the page itself could not be rendered."""

    url: str
    final_url: str = ""
    title: str = ""
    html: bytes = b""
    screenshot: bytes | None = None
    media: list[tuple[MediaItem, bytes]] = field(default_factory=list)
    errors: list[CrawlError] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    requests: int = 0
    elapsed: float = 0.0
    error: str | None = None


class _Interceptor:
    """Answers every browser request through safehttp, recording media responses."""

    def __init__(self, result: RenderResult, policy: CrawlPolicy, deadline: float) -> None:
        self.result = result
        self.policy = policy
        self.deadline = deadline
        self.fetcher = SafeFetcher(policy.fetch)
        self.seen: set[str] = set()
        # Documents fetched before the browser asked (the page itself, redirects resolved).
        self.prefetched: dict[str, FetchResult] = {}

    def close(self) -> None:
        self.fetcher.close()

    def __call__(self, route: Any, request: Any) -> None:
        url, result = request.url, self.result
        result.requests += 1
        if result.requests > MAX_REQUESTS or time.monotonic() > self.deadline:
            route.abort("timedout")
            return
        if request.method not in ("GET", "HEAD"):
            self._error(url, "Refused", f"{request.method} requests are not sent")
            route.abort("blockedbyclient")
            return
        document = request.resource_type in ("document", "subdocument")
        limit = self.policy.max_page_bytes if document else self.policy.max_media_bytes
        headers = {"Referer": request.headers["referer"]} if "referer" in request.headers else {}
        res = self.prefetched.pop(url, None) or self.fetch(url, limit, headers, request.method)
        if res is None:
            route.abort("failed")
            return
        if res.error is not None:
            declared = res.header("content-length") or "none"
            sizes = (
                f"received {res.bytes_received} bytes, limit {limit}, declared length {declared}"
            )
            self._error(url, type(res.error).__name__, f"{res.error}; {sizes}")
        whole = res.error is None and not res.truncated
        if whole and is_media_mime(res.mime) and res.status < 400 and url not in self.seen:
            self._keep(url, res)
        kept = {k: v for k, v in res.headers if k.lower() not in _DROP_HEADERS}
        route.fulfill(status=res.status, headers=kept, body=res.body)

    def fetch(
        self, url: str, limit: int, headers: dict[str, str], method: str = "GET"
    ) -> FetchResult | None:
        """Fetch through safehttp; None (with the error recorded) when there is no response."""
        try:
            return self.fetcher.fetch(url, max_bytes=limit, headers=headers, method=method)
        except FetchRefused as exc:
            self.result.refused.append(exc.url or url)
            self._error(url, "FetchRefused", str(exc))
        except FetchError as exc:
            self._error(url, type(exc).__name__, str(exc))
        return None

    def _keep(self, url: str, res: FetchResult) -> None:
        self.seen.add(url)
        if len(self.result.media) >= self.policy.max_media_total:
            return
        kind = "video" if res.mime == "application/ogg" else res.mime.split("/")[0]
        item = MediaItem(
            url=url,
            kind=kind,
            source="render",
            found_on=self.result.url,
            page=self.result.url,
            size=len(res.body),
            mime=res.mime,
            sha256=hashlib.sha256(res.body).hexdigest(),
            final_url=res.final_url,
            status=res.status,
            declared_type=res.content_type,
            address=res.address,
            truncated=res.truncated,
        )
        self.result.media.append((item, res.body))

    def _error(self, url: str, name: str, message: str) -> None:
        self.result.errors.append(CrawlError(url, "render", name, message))


def render_page(
    url: str,
    policy: CrawlPolicy,
    *,
    chromium: str = "/usr/bin/chromium",
    timeout: float = 60.0,
    scroll_steps: int = 30,
) -> RenderResult:
    """Load `url` in Chromium, scroll to the end, record media and a full-page screenshot.

    Steps:
    1. Fetch the page through safehttp first, following its redirects, so
       that the browser opens the final URL (and relative links resolve).
    2. Launch Chromium with every request routed to the interceptor, open
       the page (answered from step 1) and wait for it to load.
    3. Scroll a screen at a time (lazy loaders fetch as images come into
       view), then wait for the network to go quiet.
    4. Take the full-page screenshot and the rendered HTML.
    Never raises for what a page does; a failure is `error` plus what was
    recorded until then.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    result = RenderResult(url=url)
    interceptor = _Interceptor(result, policy, started + timeout)
    ms = timeout * 1000
    first = interceptor.fetch(url, policy.max_page_bytes, {})
    if first is None:
        interceptor.close()
        result.error = result.errors[-1].message if result.errors else "no response"
        result.elapsed = time.monotonic() - started
        return result
    start_url = first.final_url
    interceptor.prefetched[start_url] = first
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                headless=True,
                args=[*CHROMIUM_FLAGS, *ISOLATION_FLAGS],
                timeout=ms,
            )
            try:
                context = browser.new_context(
                    service_workers="block",
                    user_agent=policy.fetch.user_agent,
                    viewport={"width": 1280, "height": 900},
                    accept_downloads=False,
                )
                context.route("**/*", interceptor)
                page = context.new_page()
                page.set_default_timeout(ms)
                page.goto(start_url, wait_until="load", timeout=ms)
                height = page.evaluate(_SCROLL, scroll_steps)
                try:
                    page.wait_for_load_state("networkidle", timeout=min(ms, 5000))
                except PlaywrightError:
                    pass  # a page that never goes quiet is still rendered
                result.final_url, result.title = page.url, page.title()
                result.html = page.content().encode("utf-8")
                clip = None
                if isinstance(height, int | float) and height > MAX_SCREENSHOT_HEIGHT:
                    clip = {"x": 0, "y": 0, "width": 1280, "height": MAX_SCREENSHOT_HEIGHT}
                result.screenshot = page.screenshot(full_page=True, type="png", clip=clip)  # type: ignore[arg-type]
            finally:
                browser.close()
    except PlaywrightError as exc:
        result.error = (
            f"{type(exc).__name__}: {exc.message.splitlines()[0] if exc.message else exc}"
        )
    except Exception as exc:  # a browser that cannot start must not end the crawl
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        interceptor.close()
    if result.error:
        result.errors.append(CrawlError(url, "render", "RenderError", result.error))
    result.elapsed = time.monotonic() - started
    return result
