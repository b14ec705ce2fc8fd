"""Search in the queue: one box for a URL or part of it, a domain, a code or a hash.

What is typed is read as (prefixes are optional where the text is unambiguous):

==========================  ===============================================
``report:K7QXM-2HD9P``      the URLs of a report (its receipt code)
``item:ABCDEF-GHJKLM``      the URLs a media item was found on
``url:…`` or plain text     URLs containing the text (case ignored); a full
                            URL is normalised first (tracking parameters go)
``domain:example.test``     URLs on that host or any host under it
``md5:`` / ``sha1:`` /      URLs showing a media item with that hash; bare
``sha256:`` + hex           hex of 32, 40 or 64 digits is taken as such
``pdq:<64 hex>[~N]``        items whose PDQ hash is within N bits (default
                            31, at most 64); bare 64 hex looks for SHA-256
                            and PDQ both
==========================  ===============================================

A bare code (10 or 12 letters and digits, dashes optional) finds the URL,
report or item with that code, and URLs containing the text.

Every condition narrows the caller's queryset, which already holds only the
user's hotlines' URLs, so a search never reaches another hotline. Each is a
subquery on an indexed column except URL text (a scan of the hotline's URLs,
bounded by the page size) and PDQ, which reads the media items' PDQ hashes in
one query and compares them with the PDQ index's exact distance code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from django.db.models import Q
from django.utils.translation import gettext as _

from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.lib.pdqmih import scan
from openhotline.lib.urlnorm import UrlError, normalize_url
from openhotline.reports.models import ReportLink

PDQ_DEFAULT_DISTANCE = 31
PDQ_MAX_DISTANCE = 64
# At most this many near PDQ items (of any hotline; the nearest first) feed the URL search.
PDQ_MAX_ITEMS = 10_000
MAX_QUERY = 2048

_HEX = re.compile(r"[0-9a-fA-F]+")
_CODE = re.compile(r"[A-Za-z0-9]{10}|[A-Za-z0-9]{12}")
_PDQ = re.compile(r"([0-9a-fA-F]{64})(?:\s*~\s*(\d{1,3}))?")
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
PREFIXES = ("report", "item", "url", "domain", "md5", "sha1", "sha256", "pdq")


class SearchError(ValueError):
    """A search the queue cannot run; the message says how to write it."""


@dataclass(frozen=True)
class Search:
    """A parsed search: what ``kind`` of thing, and the value to look for."""

    kind: str
    value: str
    distance: int = 0
    text: str = ""  # a bare code as typed, also looked for in URLs

    def describe(self) -> str:
        if self.kind == "pdq":
            return _("PDQ within %(n)s bits of %(hash)s…") % {
                "n": self.distance,
                "hash": self.value[:12],
            }
        if self.kind == "any_hash":
            return _("SHA-256 or PDQ within %(n)s bits of %(hash)s…") % {
                "n": self.distance,
                "hash": self.value[:12],
            }
        if self.kind == "code":
            return _("the code %(code)s or URLs containing it") % {"code": self.value}
        return f"{self.kind.replace('_', ' ')} {self.value}"


def _code(text: str) -> str | None:
    """``K7QXM-2HD9P`` from ``k7qxm2hd9p`` (the codes' own grouping), or None."""
    bare = text.replace("-", "").replace(" ", "")
    if not _CODE.fullmatch(bare):
        return None
    group = 5 if len(bare) == 10 else 6
    upper = bare.upper()
    return "-".join(upper[i : i + group] for i in range(0, len(upper), group))


def parse_search(raw: str) -> Search | None:
    """Read the search box; None when it is empty. Raises ``SearchError``."""
    text = raw.strip()[:MAX_QUERY]
    if not text:
        return None
    prefix, sep, rest = text.partition(":")
    prefix = prefix.strip().lower()
    if sep and prefix in PREFIXES and not rest.startswith("//"):
        return _prefixed(prefix, rest.strip())
    if _HEX.fullmatch(text) and len(text) in (32, 40):
        return Search("md5" if len(text) == 32 else "sha1", text.lower())
    pdq = _PDQ.fullmatch(text)
    if pdq:
        distance = _distance(pdq.group(2))
        if pdq.group(2) is not None:
            return Search("pdq", pdq.group(1).lower(), distance)
        return Search("any_hash", text.lower(), distance)
    code = _code(text)
    if code is not None:
        return Search("code", code, text=text)
    return _url_text(text)


def _prefixed(prefix: str, value: str) -> Search:
    if not value:
        raise SearchError(_("Write what to look for after %(prefix)s:.") % {"prefix": prefix})
    if prefix in ("report", "item"):
        code = _code(value)
        if code is None:
            raise SearchError(
                _("A %(prefix)s code has 10 or 12 letters and digits.") % {"prefix": prefix}
            )
        return Search(prefix, code)
    if prefix == "url":
        return _url_text(value)
    if prefix == "domain":
        domain = value.lower().strip(".")
        if "/" in domain or " " in domain or not domain:
            raise SearchError(_("A domain is a host name such as example.test."))
        try:
            domain = normalize_url(f"http://{domain}/").split("/")[2]
        except UrlError as exc:
            raise SearchError(_("Not a domain: %(reason)s") % {"reason": exc}) from None
        return Search("domain", domain)
    if prefix == "pdq":
        match = _PDQ.fullmatch(value)
        if match is None:
            raise SearchError(_("A PDQ hash is 64 hex digits, optionally ~N for a distance."))
        return Search("pdq", match.group(1).lower(), _distance(match.group(2)))
    length = _HASH_LENGTHS[prefix]
    if not _HEX.fullmatch(value) or len(value) != length:
        raise SearchError(
            _("An %(kind)s hash is %(n)s hex digits.") % {"kind": prefix.upper(), "n": length}
        )
    return Search(prefix, value.lower())


def _distance(raw: str | None) -> int:
    if raw is None:
        return PDQ_DEFAULT_DISTANCE
    distance = int(raw)
    if distance > PDQ_MAX_DISTANCE:
        raise SearchError(_("A PDQ distance is at most %(n)s bits.") % {"n": PDQ_MAX_DISTANCE})
    return distance


def _url_text(text: str) -> Search:
    if "://" in text:
        try:
            return Search("url", normalize_url(text))
        except UrlError:
            pass  # part of a URL: look for it as typed
    return Search("url", text)


def _urls_showing(items: Q) -> Q:
    return Q(pk__in=UrlMedia.objects.filter(items).values("reported_url_id"))


def near_pdq_items(value: str, distance: int) -> list[int]:
    """Media items whose PDQ hash is within ``distance`` of ``value`` (one query).

    1. Read every hashed item's (id, PDQ) from the media table alone: one
       sequential read, never a join over the hotline's URLs. Items belong to
       no hotline; the caller keeps only URLs of the user's hotlines.
    2. Compare them all at once with ``lib.pdqmih.scan``, the PDQ index's exact
       brute-force distance, and keep the nearest ``PDQ_MAX_ITEMS``.
    """
    rows = [
        (pk, pdq)
        for pk, pdq in MediaItem.objects.exclude(pdq="").values_list("pk", "pdq")
        if len(pdq) == 64
    ]
    if not rows:
        return []
    words = np.frombuffer(bytes.fromhex("".join(pdq for _, pdq in rows)), dtype=np.uint64)
    words = words.reshape(-1, 4)
    query = np.frombuffer(bytes.fromhex(value), dtype=np.uint64).reshape(1, 4)
    _, found, distances = scan(words, 0, len(rows), query, distance)
    nearest = found[np.argsort(distances, kind="stable")][:PDQ_MAX_ITEMS]
    return [rows[int(i)][0] for i in nearest]


def search_q(search: Search) -> Q:
    """The condition on ``ReportedUrl`` for ``search`` (the caller limits it to the hotlines)."""
    kind, value = search.kind, search.value
    if kind == "report":
        return Q(pk__in=ReportLink.objects.filter(report__code=value).values("reported_url_id"))
    if kind == "item":
        return _urls_showing(Q(media_item__code=value))
    if kind == "code":
        return (
            Q(code=value)
            | Q(pk__in=ReportLink.objects.filter(report__code=value).values("reported_url_id"))
            | _urls_showing(Q(media_item__code=value))
            | Q(url__icontains=search.text or value)
        )
    if kind == "url":
        return Q(url__icontains=value)
    if kind == "domain":
        return Q(host=value) | Q(host__endswith=f".{value}")
    if kind in _HASH_LENGTHS:
        return _urls_showing(Q(**{f"media_item__{kind}": value}))
    near = near_pdq_items(value, search.distance)
    found = _urls_showing(Q(media_item_id__in=near)) if near else Q(pk__in=[])
    if kind == "any_hash":
        return found | _urls_showing(Q(media_item__sha256=value))
    return found
