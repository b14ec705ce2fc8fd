"""``openhotline crawl URL [--json]``: one crawl in the foreground, nothing stored.

The same limits, address checks, rendering and hosting trace as the crawl
task, but the evidence is only printed: page evidence, the hosting trace and
each media item's URL, size, type and SHA-256. A refused or failed fetch of
the URL prints the reason and exits with status 1.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.crawler.engine import Crawler
from openhotline.crawler.policy import crawl_policy, hosting_services
from openhotline.crawler.rdap import MemoryRdapCache
from openhotline.crawler.render import render_page
from openhotline.crawler.results import CrawlProgress, CrawlResult
from openhotline.lib.crawlconfig import RENDER_MODES


class Command(BaseCommand):
    help = "Crawl one URL in the foreground and print what was found (nothing is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--render",
            choices=RENDER_MODES,
            help="headless Chromium: off, when-no-media or always (default: the setting)",
        )
        parser.add_argument("--no-trace", action="store_true", help="skip the hosting trace")
        parser.add_argument("--quiet", action="store_true", help="no progress on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        url: str = options["url"]
        policy = crawl_policy()
        show = _Progress(enabled=not options["quiet"])
        with Crawler(policy) as crawler:
            result = crawler.crawl(url, progress=show)
        show.done()
        output = result.as_json()
        fatal = result.fatal_error
        mode = options["render"] or settings.OPENHOTLINE_CRAWL_RENDER
        if fatal is None and not result.is_media and _wants_render(mode, result):
            output["render"] = self._render(url, policy, result, output)
        if not options["no_trace"]:
            output["hosting"] = _trace(url, result)
        if options["json"]:
            self.stdout.write(json.dumps(output, indent=2, default=str))
        else:
            self._summary(output)
        if fatal is not None:
            raise CommandError(f"{url}: {fatal.error}: {fatal.message}", returncode=1)

    def _render(
        self, url: str, policy: Any, result: CrawlResult, output: dict[str, Any]
    ) -> dict[str, Any]:
        chromium = settings.OPENHOTLINE_CHROMIUM_PATH
        if not os.access(chromium, os.X_OK):
            return {"error": f"no Chromium at {chromium}"}
        rendered = render_page(
            url, policy, chromium=chromium, timeout=settings.OPENHOTLINE_CRAWL_RENDER_TIMEOUT
        )
        known = {m.sha256 for m in result.media}
        for item, _data in rendered.media:
            if item.sha256 not in known:
                known.add(item.sha256)
                output["media"].append(item.as_json())
        output["errors"].extend(
            {"url": e.url, "stage": e.stage, "error": e.error, "message": e.message}
            for e in rendered.errors
        )
        return {
            "final_url": rendered.final_url,
            "title": rendered.title,
            "requests": rendered.requests,
            "refused": rendered.refused,
            "screenshot_bytes": len(rendered.screenshot or b""),
            "media": len(rendered.media),
            "error": rendered.error,
        }

    def _summary(self, output: dict[str, Any]) -> None:
        for page in output["pages"]:
            self.stdout.write(
                f"{page['kind']:10} {page['status'] or '-':>4} {page['final_url'] or page['url']}"
            )
        for item in output["media"]:
            self.stdout.write(
                f"{item['mime']:24} {item['size']:>10} {item['sha256']} {item['url'][:100]}"
            )
        hosting = output.get("hosting") or {}
        if hosting:
            where = hosting.get("country") or "country unknown"
            if hosting.get("cdn"):
                where = f"behind {hosting['cdn']}, real hosting country unknown"
            self.stdout.write(f"hosting: {hosting.get('address') or '-'} ({where})")
        for error in output["errors"]:
            self.stderr.write(f"{error['stage']}: {error['error']}: {error['message']}")


class _Progress:
    """Counters on one rewritten stderr line, like a download bar."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr is not None
        self.shown = False

    def __call__(self, counts: CrawlProgress) -> None:
        if not self.enabled:
            return
        sys.stderr.write(
            f"\rcrawling: {counts.pages} pages, {counts.media_found} media found,"
            f" {counts.media_fetched} fetched "
        )
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _wants_render(mode: str, result: CrawlResult) -> bool:
    fetched = [m for m in result.media if m.error is None]
    return mode == "always" or (mode == "when-no-media" and not fetched)


def _trace(url: str, result: CrawlResult) -> dict[str, Any]:
    first = result.pages[0] if result.pages else None
    host = (urlsplit((first.final_url if first else "") or url).hostname or "").lower()
    if not host:
        return {}
    services = hosting_services(MemoryRdapCache())
    try:
        policy = crawl_policy().fetch
        leaks = host.endswith(".onion") or bool(policy.proxy and policy.proxy_resolves_names)
        trace = services.trace(host, first.address if first else None, None, use_dns=not leaks)
    finally:
        services.close()
    return trace.as_json()
