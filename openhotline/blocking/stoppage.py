"""The stop page: a small WSGI application that answers every host name with HTTP 451.

Providers send visitors of blocked names here (the exports' local data or CNAME).
It answers any Host and any path with ``451 Unavailable For Legal Reasons`` and
``Link: <…>; rel="blocked-by"`` (RFC 7725), in the visitor's language, as plain
HTML with no external resources. It never logs who visited: at most, when
``OPENHOTLINE_STOPPAGE_DAILY_COUNT`` is on, a count per day and blocked name.

One stop page serves every hotline of the installation: the blocked name chooses
the hotline whose live list blocks it (a whole host, or the nearest domain above
it). A name no list blocks gets the default hotline's page (``--hotline``, or the
only hotline), or a page naming no hotline. Links (``blocked-by``, a complaint
path such as ``/complaints/``) are made absolute on
``OPENHOTLINE_PUBLIC_BASE_URL``, never on a development address.

``openhotline stoppage --listen HOST:PORT`` serves it with gunicorn.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.blocking.models import (
    WHOLE_NAME_KINDS,
    BlocklistEntry,
    EntryKind,
    EntryState,
    StopPageDailyCount,
    StopPageSettings,
    StopPageText,
)
from openhotline.blocking.names import parent_names
from openhotline.blocking.stoppage_texts import COUNTRY_LANGUAGE, DEFAULT_TEXTS, StopText

logger = logging.getLogger(__name__)

STATUS = "451 Unavailable For Legal Reasons"
_HOST_RE = re.compile(r"[a-z0-9_.-]{1,253}")
_STYLE = (
    "body{margin:0;background:#fff;color:#1b1f24;font:17px/1.55 system-ui,sans-serif}"
    "main{max-width:40rem;margin:0 auto;padding:1.5rem 1.2rem}"
    "h1{font-size:1.6rem;margin:.2rem 0 1rem}.host{color:#5b6470;word-break:break-all}"
    "a{color:#1f5fa8}"
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class StopContent:
    """Everything the page shows, loaded from the database and cached for a while."""

    operator: str
    blocked_by_url: str
    contact: str
    help_name: str
    help_url: str
    default_language: str
    texts: dict[str, StopText]


def public_url(link: str) -> str:
    """``link`` made absolute on the public base URL when it is a path (``/complaints/``)."""
    if link.startswith("/") and not link.startswith("//"):
        return settings.OPENHOTLINE_PUBLIC_BASE_URL.rstrip("/") + link
    return link


def default_blocked_by() -> str:
    return public_url(settings.OPENHOTLINE_STOPPAGE_BLOCKED_BY_URL or "/")


def complaint_of(hotline: Organisation, page: StopPageSettings | None) -> str:
    """Where a visitor complains about a wrong block: an address or a form, never nothing.

    The hotline's own setting, else its contact address, else the installation's
    ``OPENHOTLINE_STOPPAGE_COMPLAINT`` (an address, a URL or a path on the public
    site), else the public site itself.
    """
    for candidate in (
        page.complaint_contact if page else "",
        hotline.contact_email,
        settings.OPENHOTLINE_STOPPAGE_COMPLAINT,
    ):
        if candidate:
            return public_url(candidate.strip())
    return public_url("/")


def fallback_content() -> StopContent:
    """The page when no hotline can be named (database down, or no list blocks the name)."""
    return StopContent(
        "",
        default_blocked_by(),
        public_url(settings.OPENHOTLINE_STOPPAGE_COMPLAINT or "/"),
        settings.OPENHOTLINE_STOPPAGE_HELP_NAME,
        settings.OPENHOTLINE_STOPPAGE_HELP_URL,
        "en",
        dict(DEFAULT_TEXTS),
    )


def load_content(hotline: Organisation) -> StopContent:
    page = StopPageSettings.objects.filter(hotline=hotline).first()
    texts = dict(DEFAULT_TEXTS)
    for text in StopPageText.objects.filter(hotline=hotline, language__in=list(DEFAULT_TEXTS)):
        default = DEFAULT_TEXTS[text.language]
        texts[text.language] = StopText(
            title=text.title or default.title,
            explanation=text.explanation or default.explanation,
            complaint=text.complaint or default.complaint,
            help=text.help or default.help,
            address_label=default.address_label,
        )
    blocked_by = public_url(page.blocked_by_url) if page and page.blocked_by_url else ""
    return StopContent(
        operator=hotline.name,
        blocked_by_url=blocked_by or default_blocked_by(),
        contact=complaint_of(hotline, page),
        help_name=(page and page.help_name) or settings.OPENHOTLINE_STOPPAGE_HELP_NAME,
        help_url=(page and page.help_url) or settings.OPENHOTLINE_STOPPAGE_HELP_URL,
        default_language=COUNTRY_LANGUAGE.get(str(hotline.country), "en"),
        texts=texts,
    )


def request_host(environ: dict[str, Any]) -> str:
    """The host name the visitor asked for, or "" when it is not a plain name."""
    raw = str(environ.get("HTTP_HOST", "")).strip().lower()
    if raw.startswith("["):
        return ""  # an IPv6 literal: nothing was blocked by name
    name = raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw
    name = name.rstrip(".")
    return name if _HOST_RE.fullmatch(name) else ""


def choose_language(accept_language: str, default: str) -> str:
    """The best of our languages by the browser's Accept-Language, else ``default``."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-", 1)[0]
        if primary in DEFAULT_TEXTS and quality > 0:
            wanted.append((-quality, position, primary))
    return min(wanted)[2] if wanted else default


def render(content: StopContent, language: str, host: str) -> bytes:
    text = content.texts.get(language) or DEFAULT_TEXTS["en"]
    contact = html.escape(content.contact)
    if "@" in content.contact and " " not in content.contact:
        contact = f'<a href="mailto:{contact}">{contact}</a>'
    elif content.contact.startswith(("http://", "https://")):
        contact = f'<a href="{contact}">{contact}</a>'
    values = {
        "{operator}": f'<a href="{html.escape(content.blocked_by_url)}">'
        f"{html.escape(content.operator)}</a>",
        "{contact}": contact,
        "{help_name}": html.escape(content.help_name),
    }

    def paragraph(raw: str) -> str:
        out = html.escape(raw, quote=False)
        for key, value in values.items():
            out = out.replace(key, value)
        return f"<p>{out}</p>"

    help_link = ""
    if content.help_url:
        url = html.escape(content.help_url)
        help_link = f'<p><a href="{url}">{url}</a></p>'
    address = ""
    if host:
        address = f'<p class="host">{html.escape(text.address_label)}: {html.escape(host)}</p>'
    page = (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(text.title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{html.escape(text.title)}</h1>{address}"
        f"{paragraph(text.explanation)}{paragraph(text.complaint)}"
        f"{paragraph(text.help)}{help_link}</main></body></html>\n"
    )
    return page.encode("utf-8")


def blocker_of(host: str) -> tuple[int, str] | None:
    """``(hotline id, blocked name)`` of the live entry that sends ``host`` here.

    What the DNS exports carry decides: a whole host (its own name) or a domain
    (the name and every name below it). The nearest name wins; among hotlines
    blocking the same name, the oldest hotline, so the answer is stable.
    """
    parents = parent_names(host)
    rows = list(
        BlocklistEntry.objects.filter(state=EntryState.LIVE)
        .filter(
            Q(host=host, kind__in=WHOLE_NAME_KINDS) | Q(kind=EntryKind.DOMAIN, host__in=parents[1:])
        )
        .values_list("hotline_id", "host")
    )
    if not rows:
        return None
    return min(rows, key=lambda row: (parents.index(row[1]), row[0]))


class StopPageApp:
    """The WSGI application of the stop page, for every hotline of the installation."""

    def __init__(
        self,
        default_hotline_id: int | None = None,
        *,
        count_daily: bool = False,
        refresh_seconds: float = 60.0,
    ) -> None:
        self.default_hotline_id = default_hotline_id
        self.count_daily = count_daily
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        # Per hotline id: (content, loaded at).
        self._contents: dict[int, tuple[StopContent, float]] = {}

    def content(self, hotline_id: int | None = None) -> StopContent:
        """The page's content for a hotline; the database is asked at most once a
        ``refresh_seconds`` per hotline.

        When the database cannot be reached the page keeps answering with what it
        had, or with the defaults: a stop page must never fail.
        """
        hotline_id = self.default_hotline_id if hotline_id is None else hotline_id
        if hotline_id is None:
            return fallback_content()
        with self._lock:
            now = time.monotonic()
            cached = self._contents.get(hotline_id)
            if cached is None or now - cached[1] > self.refresh_seconds:
                try:
                    content = load_content(Organisation.objects.get(pk=hotline_id))
                except (DatabaseError, Organisation.DoesNotExist):
                    logger.exception("stop page: could not load its texts; using what it has")
                    content = cached[0] if cached is not None else fallback_content()
                self._contents[hotline_id] = (content, now)
                return content
            return cached[0]

    def blocker(self, host: str) -> tuple[int, str] | None:
        if not host:
            return None
        try:
            return blocker_of(host)
        except DatabaseError:
            logger.exception("stop page: could not look up the blocked name")
            return None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = request_host(environ)
        blocker = self.blocker(host)
        content = self.content(blocker[0] if blocker else None)
        language = choose_language(
            str(environ.get("HTTP_ACCEPT_LANGUAGE", "")), content.default_language
        )
        body = render(content, language, host)
        if self.count_daily and blocker is not None:
            self.count(*blocker)
        blocked_by = content.blocked_by_url.replace(">", "%3E").replace("\n", "")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Content-Language", language),
            ("Link", f'<{blocked_by}>; rel="blocked-by"'),
            ("Vary", "Accept-Language"),
            ("Cache-Control", "no-store"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        start_response(STATUS, headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def count(self, hotline_id: int, blocked: str) -> None:
        """Add one to today's count of the blocked name; nothing else.

        Only names on a live list are counted (``blocker_of``), so arbitrary Host
        headers cannot fill the table.
        """
        try:
            key = {"hotline_id": hotline_id, "day": timezone.localdate(), "host": blocked}
            if StopPageDailyCount.objects.filter(**key).update(count=F("count") + 1):
                return
            try:
                with transaction.atomic():
                    StopPageDailyCount.objects.create(**key, count=1)
            except IntegrityError:
                StopPageDailyCount.objects.filter(**key).update(count=F("count") + 1)
        except DatabaseError:
            logger.exception("stop page: could not count a visit")
