"""The hosting trace: where a reported host is, who runs its network, and who gets the notice.

Pure Python (no Django): DNS, the offline IP database, the CDN ranges and
RDAP are passed in, so the CLI, the crawl task and the tests put together
their own. Every step that fails is recorded in `errors` and the trace goes
on with what it has: a trace without a registrar is still worth keeping.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import dns.resolver
from publicsuffixlist import PublicSuffixList

from openhotline.crawler.cdn import CdnProvider, provider_for
from openhotline.crawler.dnstrace import is_ip, trace_dns
from openhotline.crawler.geo import GeoDatabase, IpInfo
from openhotline.crawler.rdap import DomainRegistration, IpRegistration, RdapError, RdapLookup


@dataclass(frozen=True)
class Overrides:
    """What a domain rule imposes: a hoster or registrar to notify, a site owner to tell."""

    hoster: str = ""
    registrar: str = ""
    site_owner: str = ""


@dataclass
class HostingTrace:
    host: str
    domain: str = ""
    cname_chain: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    address: str = ""
    address_source: str = ""  # "connected" (the fetch's socket) or "dns"
    ip: IpInfo | None = None
    country: str = ""  # the hosting country, when it can be known
    country_known: bool = False
    cdn: str = ""
    cdn_abuse: str = ""
    cdn_ranges_as_of: str = ""
    cdn_ranges_origin: str = ""  # "built-in", "loaded" or "OPENHOTLINE_CDN_RANGES_DIR"
    network: IpRegistration | None = None
    registration: DomainRegistration | None = None
    hoster: str = ""
    hoster_abuse: str = ""
    registrar: str = ""
    registrar_abuse: str = ""
    notice_to: str = ""
    notice_via: str = ""  # "hoster", "cdn" or "domain rule"
    site_owner: str = ""
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    traced_at: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def _icann_suffixes() -> PublicSuffixList:
    return PublicSuffixList(only_icann=True)


def registered_domain(host: str) -> str:
    """The domain a registrar sold ("a.b.example.co.uk" -> "example.co.uk"); "" for addresses."""
    if is_ip(host):
        return ""
    return _icann_suffixes().privatesuffix(host.rstrip(".").lower()) or ""


def trace_host(
    host: str,
    *,
    geo: GeoDatabase,
    cdn_providers: tuple[CdnProvider, ...],
    resolver: dns.resolver.Resolver | None = None,
    connected_address: str | None = None,
    rdap: RdapLookup | None = None,
    overrides: Overrides | None = None,
) -> HostingTrace:
    """Trace `host`: DNS, the address's country and network, CDN, contacts.

    Steps:
    1. DNS: the CNAME chain and the A/AAAA addresses (with `resolver`).
    2. The address traced is the one the fetch actually connected to, when
       there was one (it is the evidence), else the first DNS answer.
    3. Country, AS and network range from the offline database.
    4. If any address is in a CDN's published ranges, the real hosting
       country is unknown and the notice goes to the CDN.
    5. RDAP: the network holder and its abuse contact; the domain's registrar.
    6. A domain rule may force the hoster or registrar and add the site owner.
    """
    host = host.rstrip(".").lower()
    trace = HostingTrace(host=host, domain=registered_domain(host))
    trace.traced_at = datetime.now(tz=UTC).isoformat()
    if resolver is not None:
        answer = trace_dns(host, resolver)
        trace.cname_chain, trace.addresses = answer.cname_chain, answer.addresses
        trace.errors.extend(answer.errors)
    elif is_ip(host):
        trace.addresses = [host]
    if connected_address:
        trace.address, trace.address_source = connected_address, "connected"
        if connected_address not in trace.addresses:
            trace.addresses.append(connected_address)
            if resolver is not None:
                trace.notes.append(
                    f"The page was served from {connected_address}, which DNS no longer returns."
                )
    elif trace.addresses:
        trace.address, trace.address_source = trace.addresses[0], "dns"
    if not trace.address:
        trace.notes.append("No address: the hosting country is unknown.")
        _apply(trace, overrides)
        return trace
    _locate(trace, geo, cdn_providers)
    if rdap is not None:
        _registrations(trace, rdap)
    _contacts(trace)
    _apply(trace, overrides)
    return trace


def _locate(trace: HostingTrace, geo: GeoDatabase, providers: tuple[CdnProvider, ...]) -> None:
    try:
        trace.ip = geo.lookup(trace.address)
    except Exception as exc:  # a damaged database must not end the trace
        trace.errors.append(f"IP database: {type(exc).__name__}: {exc}")
    cdn = provider_for(trace.address, providers) or next(
        (p for a in trace.addresses if (p := provider_for(a, providers))), None
    )
    if cdn is not None:
        trace.cdn, trace.cdn_abuse, trace.cdn_ranges_as_of = cdn.name, cdn.abuse, cdn.as_of
        trace.cdn_ranges_origin = cdn.origin
        trace.notes.append(
            f"{trace.host} is behind {cdn.name} (published ranges as of {cdn.as_of or 'unknown'}"
            f"{', built-in list' if cdn.origin == 'built-in' else ''}):"
            f" the real hosting country is unknown, and the notice goes to {cdn.name}."
        )
        return
    if trace.ip is not None and trace.ip.country:
        trace.country, trace.country_known = trace.ip.country, True
    else:
        trace.notes.append(f"{trace.address} is in no country of the IP database.")


def _registrations(trace: HostingTrace, rdap: RdapLookup) -> None:
    try:
        trace.network = rdap.ip(trace.address)
    except (RdapError, ValueError) as exc:
        trace.errors.append(f"RDAP for {trace.address}: {exc}")
    if trace.domain:
        try:
            trace.registration = rdap.domain(trace.domain)
        except (RdapError, ValueError) as exc:
            trace.errors.append(f"RDAP for {trace.domain}: {exc}")


def _contacts(trace: HostingTrace) -> None:
    network = trace.network
    if network is not None:
        trace.hoster = network.holder or network.network_name
        trace.hoster_abuse = network.abuse_email
    elif trace.ip is not None:
        trace.hoster = trace.ip.as_name
    if trace.registration is not None:
        trace.registrar = trace.registration.registrar
        trace.registrar_abuse = trace.registration.registrar_abuse_email
    if trace.cdn:
        trace.notice_to = trace.cdn_abuse or trace.hoster_abuse or trace.cdn
        trace.notice_via = "cdn"
    elif trace.hoster_abuse or trace.hoster:
        trace.notice_to = trace.hoster_abuse or trace.hoster
        trace.notice_via = "hoster"


def _apply(trace: HostingTrace, overrides: Overrides | None) -> None:
    if overrides is None:
        return
    if overrides.hoster:
        trace.hoster = trace.hoster_abuse = overrides.hoster
        trace.notice_to, trace.notice_via = overrides.hoster, "domain rule"
        trace.notes.append("The hoster is set by a domain rule.")
    if overrides.registrar:
        trace.registrar = trace.registrar_abuse = overrides.registrar
        trace.notes.append("The registrar is set by a domain rule.")
    if overrides.site_owner:
        trace.site_owner = overrides.site_owner
        trace.notes.append("A domain rule asks to notify the site owner as well.")
