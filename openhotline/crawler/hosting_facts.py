"""What routing and notices need from the crawler's hosting trace, as one small record.

The crawler keeps the full trace of every crawl (``crawler.HostingRecord``,
its ``detail`` is ``HostingTrace.as_json()``). Routing needs the country and
the CDN; notices need who to write to. ``latest_facts`` reads the newest
recorded trace; ``fresh_facts`` traces again now, which notices do before
sending so that a site that moved is never reported to its old hoster.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from openhotline.crawler.models import HostingRecord
from openhotline.crawler.policy import hosting_services, overrides_for
from openhotline.crawler.rdapcache import DbRdapCache
from openhotline.crawler.rules import rule_for
from openhotline.reports.models import ReportedUrl

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostingFacts:
    host: str = ""
    address: str = ""
    country: str = ""
    cdn: str = ""
    cdn_abuse: str = ""
    hoster: str = ""
    hoster_abuse: str = ""
    registrar: str = ""
    registrar_abuse: str = ""
    notice_to: str = ""
    notice_via: str = ""
    asn: int | None = None
    network: str = ""
    site_owner: str = ""

    @classmethod
    def from_trace(cls, detail: dict[str, Any]) -> HostingFacts:
        """From ``HostingTrace.as_json()``; missing keys read as unknown."""
        ip = detail.get("ip") or {}
        registration = detail.get("network") or {}
        network = str(ip.get("network") or "") or ",".join(registration.get("cidrs") or [])
        asn = ip.get("asn")
        return cls(
            host=str(detail.get("host") or ""),
            address=str(detail.get("address") or ""),
            country=str(detail.get("country") or "").upper(),
            cdn=str(detail.get("cdn") or ""),
            cdn_abuse=str(detail.get("cdn_abuse") or ""),
            hoster=str(detail.get("hoster") or ""),
            hoster_abuse=str(detail.get("hoster_abuse") or ""),
            registrar=str(detail.get("registrar") or ""),
            registrar_abuse=str(detail.get("registrar_abuse") or ""),
            notice_to=str(detail.get("notice_to") or ""),
            notice_via=str(detail.get("notice_via") or ""),
            asn=int(asn) if isinstance(asn, int) else None,
            network=network[:100],
            site_owner=str(detail.get("site_owner") or ""),
        )

    def hoster_key(self) -> str:
        """Who gets the notice, compared case-insensitively between traces."""
        return self.notice_to.strip().lower()

    def is_located(self) -> bool:
        """A trace that says where the content is (a country) or who fronts it (a CDN)."""
        return bool(self.country or self.cdn)


def latest_facts(reported_url: ReportedUrl) -> HostingFacts | None:
    """The newest recorded hosting trace of the URL, or None before any."""
    record = (
        HostingRecord.objects.filter(crawl__reported_url=reported_url)
        .order_by("-created_at", "-pk")
        .first()
    )
    if record is None:
        return None
    if not record.detail:
        return HostingFacts(host=record.host, address=record.address, country=record.country)
    return HostingFacts.from_trace(record.detail)


def fresh_facts(reported_url: ReportedUrl, connected_address: str | None = None) -> HostingFacts:
    """Trace the URL's host now (DNS, IP data, CDN ranges, RDAP), with its domain rule.

    Never raises: a failed trace returns what it found, possibly nothing, and
    the caller treats "nothing" as "not known now" rather than as a change.
    """
    host = (urlsplit(reported_url.url).hostname or reported_url.host or "").lower()
    if not host:
        return HostingFacts()
    rule = rule_for(reported_url.hotline, host)
    services = hosting_services(DbRdapCache())
    try:
        trace = services.trace(
            host, connected_address, overrides_for(rule), use_dns=not host.endswith(".onion")
        )
    except Exception:  # the trace is advisory here: never lose a notice run over it
        logger.exception("hosting re-lookup of %s failed", host)
        return HostingFacts(host=host)
    finally:
        services.close()
    return HostingFacts.from_trace(trace.as_json())
