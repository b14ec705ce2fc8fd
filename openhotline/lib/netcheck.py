"""Which network addresses the crawler may connect to.

A reported page is attacker-controlled: its URLs, redirects and DNS answers
can all point at the hotline's own network (loopback admin ports, the cloud
metadata service, the database on a private subnet). Every address is checked
here, as an address, never as a host name string, and only an explicit
operator allow-list can let a refused one through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
# IPv6 prefixes that carry an IPv4 address a gateway may forward to.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")


def parse_allow_list(text: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse `OPENHOTLINE_FETCH_ALLOW` ("127.0.0.1, 10.1.0.0/16") into networks.

    A bare address becomes a single-address network. Raises ValueError on a
    malformed entry, so a typo in the setting fails at start-up rather than
    silently allowing nothing (or everything).
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    networks: list[IPNetwork] = []
    for item in items:
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def address_refusal(address: str | IPAddress, allow: Sequence[IPNetwork] = ()) -> str | None:
    """Return why `address` must not be connected to, or None when it may be.

    Steps:
    1. An address inside an allow-listed network is accepted (operator choice).
    2. Cloud metadata addresses are named first, for a clear message.
    3. IPv6 forms that smuggle an IPv4 address (IPv4-mapped, NAT64, 6to4) are
       refused, or judged by the embedded IPv4 address.
    4. Loopback, unspecified, link-local, multicast, CGNAT, private and
       reserved ranges are refused, and so is anything else not global.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    if any(ip.version == net.version and ip in net for net in allow):
        return None
    if ip in _METADATA:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        embedded: ipaddress.IPv4Address | None = None
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip in _SIXTOFOUR:
            embedded = ip.sixtofour
        if embedded is not None:
            # Judged as the IPv4 address a gateway would carry it to (on an
            # IPv6-only network with DNS64, every IPv4 site looks like this).
            inner = address_refusal(embedded, allow)
            return None if inner is None else f"an IPv6 address embedding {embedded}, {inner}"
    return _range_refusal(ip)


def _range_refusal(ip: IPAddress) -> str | None:
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.version == 4 and ip in _CGNAT, "a carrier-grade NAT (shared) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (not ip.is_global, "not a public address"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def resolve_host(host: str, port: int) -> list[str]:
    """Resolve `host` to its addresses (A and AAAA), in the resolver's order.

    Kept as a plain module function so a caller (or a test) can pass another
    resolver in `FetchPolicy.resolver`.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in addresses:
            addresses.append(addr)
    return addresses
