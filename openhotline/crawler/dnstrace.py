"""DNS for the crawler: the CNAME chain and addresses of a host, through dnspython.

The resolver is configurable (``OPENHOTLINE_DNS_SERVERS``) so that an operator
can send the crawler's lookups to a resolver of their choice (not the one that
applies the hotline's own blocklist, say), and so that tests can answer from a
DNS server of their own on loopback. The same resolver serves the fetches
(through `address_resolver`) and the hosting trace, so both see one answer.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.nameserver
import dns.resolver


@dataclass
class DnsTrace:
    """What DNS said about one host name."""

    host: str
    cname_chain: list[str] = field(default_factory=list)  # names followed, in order
    addresses: list[str] = field(default_factory=list)  # A answers, then AAAA
    errors: list[str] = field(default_factory=list)

    @property
    def canonical_name(self) -> str:
        return self.cname_chain[-1] if self.cname_chain else self.host


def make_resolver(
    servers: Sequence[tuple[str, int]], timeout: float = 5.0
) -> dns.resolver.Resolver:
    """A resolver asking `servers` ((address, port) pairs), or the system's when empty."""
    if servers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(a, port=p) for a, p in servers]
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            # No /etc/resolv.conf: lookups fail and are recorded, the crawl goes on.
            resolver = dns.resolver.Resolver(configure=False)
    resolver.timeout = timeout
    resolver.lifetime = timeout
    resolver.cache = dns.resolver.LRUCache(4096)
    return resolver


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def trace_dns(host: str, resolver: dns.resolver.Resolver) -> DnsTrace:
    """Resolve `host` to its CNAME chain and its A and AAAA addresses.

    Steps:
    1. An IP address literal is its own answer.
    2. Ask for A, then AAAA; each answer carries the CNAME chain the
       resolver followed, kept from the first answer that has one.
    3. NXDOMAIN ends the lookup; a timeout or a failing server for one
       type is recorded and the other type is still asked.
    """
    host = host.rstrip(".").lower()
    trace = DnsTrace(host=host)
    if is_ip(host):
        trace.addresses.append(str(ipaddress.ip_address(host)))
        return trace
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            trace.errors.append(f"{host}: no such domain (NXDOMAIN)")
            break
        except (dns.exception.DNSException, OSError) as exc:
            trace.errors.append(f"{host} {rdtype}: {type(exc).__name__}: {exc}")
            continue
        if not trace.cname_chain:
            trace.cname_chain = [
                rr.target.to_text().rstrip(".").lower()
                for rrset in answer.chaining_result.cnames
                for rr in rrset
            ]
        if answer.rrset is not None:
            for rr in answer.rrset:
                if rr.address not in trace.addresses:
                    trace.addresses.append(rr.address)
    return trace


def address_resolver(resolver: dns.resolver.Resolver) -> Callable[[str, int], list[str]]:
    """A `FetchPolicy.resolver` that looks names up through `resolver`.

    safehttp expects an OSError when a name has no address, so that the
    failure is recorded as a connect error of that URL.
    """

    def resolve(host: str, port: int) -> list[str]:
        trace = trace_dns(host, resolver)
        if not trace.addresses:
            reason = "; ".join(trace.errors) or f"{host} has no A or AAAA record"
            raise socket.gaierror(socket.EAI_NONAME, reason)
        return trace.addresses

    return resolve
