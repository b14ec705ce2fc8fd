"""What a crawl produces: page evidence, media items, errors, progress.

Plain dataclasses, free of Django, so the engine can run in a Celery task,
the CLI or a benchmark process alike; the crawler app turns them into rows
and evidence blobs.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from openhotline.lib.safehttp import RedirectHop, TlsInfo


@dataclass
class PageEvidence:
    """One fetched document: the reported page, a frame, a viewer page or a stylesheet."""

    url: str
    kind: str  # "page", "linked" (a same-site page followed), "iframe", "viewer", "stylesheet"
    depth: int
    parent: str | None
    page: str = ""  # the reported page, or the followed page, this document belongs to
    final_url: str = ""
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    redirects: list[RedirectHop] = field(default_factory=list)
    body: bytes = b""
    mime: str = ""
    title: str = ""
    encoding: str = ""
    fetched_at: datetime | None = None
    elapsed: float = 0.0
    address: str | None = None
    tls: TlsInfo | None = None
    truncated: bool = False
    error: str | None = None
    media_found: int = 0

    def as_json(self) -> dict[str, Any]:
        """JSON-ready summary; the body itself is stored as evidence, not printed."""
        return {
            "url": self.url,
            "kind": self.kind,
            "depth": self.depth,
            "parent": self.parent,
            "page": self.page,
            "final_url": self.final_url,
            "status": self.status,
            "redirects": [
                {"url": h.url, "status": h.status, "location": h.location, "address": h.address}
                for h in self.redirects
            ],
            "headers": [list(h) for h in self.headers],
            "mime": self.mime,
            "title": self.title,
            "encoding": self.encoding,
            "size": len(self.body),
            "sha256": hashlib.sha256(self.body).hexdigest(),
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
            "elapsed": round(self.elapsed, 3),
            "address": self.address,
            "tls_cert_sha256": self.tls.cert_sha256 if self.tls else None,
            "truncated": self.truncated,
            "error": self.error,
            "media_found": self.media_found,
        }


@dataclass
class MediaItem:
    """One media item found on a page, with the facts hashing and storage need."""

    url: str
    kind: str
    source: str
    found_on: str
    # The reported page, or the same-site page the crawler followed, the item
    # was found on (through its frames and viewer pages): the review groups by it.
    page: str = ""
    size: int = 0
    mime: str = ""
    sha256: str = ""
    final_url: str = ""
    status: int | None = None
    declared_type: str | None = None
    address: str | None = None
    redirects: list[RedirectHop] = field(default_factory=list)
    data: bytes | None = None
    truncated: bool = False
    error: str | None = None
    # Sizes of the fetch, so a refused item says how far it got: bytes on the
    # wire, the fetch limit, and the Content-Length the server declared.
    received: int = 0
    limit: int = 0
    declared_length: int | None = None
    skipped: bool = False  # not fetched at all (the crawl's byte budget was used up)

    def is_whole(self) -> bool:
        """Fetched completely: only such media become evidence."""
        return not self.truncated and not self.skipped

    def sizes(self, decoded: int) -> str:
        declared = "none" if self.declared_length is None else f"{self.declared_length} bytes"
        return (
            f"received {self.received} bytes, decoded {decoded} bytes, limit {self.limit} bytes,"
            f" declared length {declared}"
        )

    def as_json(self) -> dict[str, Any]:
        """JSON-ready summary (the bytes go to the evidence store, not here)."""
        return {
            "url": self.url,
            "kind": self.kind,
            "source": self.source,
            "found_on": self.found_on,
            "page": self.page,
            "final_url": self.final_url,
            "status": self.status,
            "size": self.size,
            "mime": self.mime,
            "declared_type": self.declared_type,
            "sha256": self.sha256,
            "address": self.address,
            "truncated": self.truncated,
            "error": self.error,
            "received": self.received,
            "limit": self.limit,
            "declared_length": self.declared_length,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class CrawlError:
    """A recorded failure: the crawl goes on, and the analyst sees what was missed."""

    url: str
    stage: str  # "page", "iframe", "viewer", "stylesheet", "media", "sink", "limit", "rule"
    error: str  # exception class name, e.g. "FetchRefused"
    message: str


@dataclass(frozen=True)
class CrawlProgress:
    """Counters for the UI and CLI progress display."""

    pages: int
    media_found: int
    media_fetched: int


@dataclass
class CrawlResult:
    """Everything one crawl found, partial when some fetches failed."""

    url: str
    started_at: datetime
    elapsed: float = 0.0
    is_media: bool = False
    pages: list[PageEvidence] = field(default_factory=list)
    media: list[MediaItem] = field(default_factory=list)
    errors: list[CrawlError] = field(default_factory=list)
    media_found: int = 0
    media_skipped: int = 0

    @property
    def fatal_error(self) -> CrawlError | None:
        """The error that stopped the reported URL itself from being fetched, if any."""
        if self.pages and self.pages[0].status is not None:
            return None
        return next((e for e in self.errors if e.stage == "page"), None)

    def as_json(self) -> dict[str, Any]:
        """The `openhotline crawl --json` shape (page evidence, media, errors)."""
        return {
            "url": self.url,
            "started_at": self.started_at.isoformat(),
            "elapsed": round(self.elapsed, 3),
            "is_media": self.is_media,
            "pages": [p.as_json() for p in self.pages],
            "media": [m.as_json() for m in self.media],
            "media_found": self.media_found,
            "media_skipped": self.media_skipped,
            "errors": [asdict(e) for e in self.errors],
        }
