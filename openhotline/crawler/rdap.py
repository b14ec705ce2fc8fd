"""Who to send a notice to: the network holder's abuse contact and the domain's registrar, by RDAP.

RDAP (RFC 9082/9083) is WHOIS in JSON. The IANA bootstrap files (RFC 9224)
say which registry serves which address block or top-level domain; answers
are cached (the DB cache in `rdapcache`), because one hoster serves many
reported URLs and registries rate-limit. All requests go through `safehttp`,
with its address checks, like every other outbound request. The lookup is
pluggable: anything with `ip()` and `domain()` methods can replace
`RdapClient` (``OPENHOTLINE_RDAP_CLIENT``).
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import idna

from openhotline.lib.safehttp import FetchError, SafeFetcher

BOOTSTRAP_KINDS = ("dns", "ipv4", "ipv6")
_NOT_FOUND = {"not_found": True}


class RdapError(Exception):
    """A registry could not be asked or gave an unusable answer."""


class RdapCache(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...

    def set(self, key: str, value: dict[str, Any], ttl: int) -> None: ...


class MemoryRdapCache:
    """A per-process cache, for the CLI and tests."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + ttl, value)


@dataclass
class IpRegistration:
    """The registry's record of the network an address is in."""

    network_name: str = ""
    handle: str = ""
    start: str = ""
    end: str = ""
    cidrs: list[str] = field(default_factory=list)
    country: str = ""
    holder: str = ""
    abuse_email: str = ""
    source: str = ""


@dataclass
class DomainRegistration:
    """The registry's record of a domain: who registered it for the holder."""

    domain: str = ""
    registrar: str = ""
    registrar_iana_id: str = ""
    registrar_abuse_email: str = ""
    source: str = ""


class RdapLookup(Protocol):
    def ip(self, address: str) -> IpRegistration | None: ...

    def domain(self, name: str) -> DomainRegistration | None: ...


class RdapClient:
    """RDAP over `fetcher`, with IANA-style bootstrap files under `bootstrap_url`."""

    def __init__(
        self, fetcher: SafeFetcher, bootstrap_url: str, cache: RdapCache, ttl: int = 7 * 86400
    ) -> None:
        self.fetcher = fetcher
        self.bootstrap_url = bootstrap_url.rstrip("/") + "/"
        self.cache = cache
        self.ttl = ttl

    def ip(self, address: str) -> IpRegistration | None:
        """The network record of `address`, or None when no registry knows it."""
        ip = ipaddress.ip_address(address)
        key = f"ip:{ip}"
        cached = self.cache.get(key)
        if cached is None:
            base = self._service(f"ipv{ip.version}", lambda entry: _prefix_match(ip, entry))
            cached = _NOT_FOUND if base is None else self._query(f"{base}ip/{ip}", _parse_ip)
            self.cache.set(key, cached, self.ttl)
        return None if cached.get("not_found") else IpRegistration(**cached)

    def domain(self, name: str) -> DomainRegistration | None:
        """The registration of domain `name`, or None when its registry has no RDAP or record."""
        try:
            ascii_name = idna.encode(name.rstrip("."), uts46=True).decode().lower()
        except idna.IDNAError as exc:
            raise RdapError(f"{name!r} is not a valid domain name: {exc}") from None
        key = f"domain:{ascii_name}"
        cached = self.cache.get(key)
        if cached is None:
            labels = ascii_name.split(".")
            base = self._service("dns", lambda entry: _suffix_match(labels, entry))
            cached = (
                _NOT_FOUND
                if base is None
                else self._query(f"{base}domain/{ascii_name}", _parse_dom)
            )
            self.cache.set(key, cached, self.ttl)
        return None if cached.get("not_found") else DomainRegistration(**cached)

    def _service(self, kind: str, score: Any) -> str | None:
        """The base URL of the registry serving the best-matching bootstrap entry."""
        services = self._bootstrap(kind)
        best: tuple[int, str] | None = None
        for entries, urls in services:
            for entry in entries:
                points = score(str(entry).lower())
                if points is not None and (best is None or points > best[0]) and urls:
                    https = [u for u in urls if str(u).startswith("https://")]
                    best = (points, str((https or urls)[0]))
        return None if best is None else best[1].rstrip("/") + "/"

    def _bootstrap(self, kind: str) -> list[Any]:
        key = f"bootstrap:{kind}"
        cached = self.cache.get(key)
        if cached is None:
            data = self._get_json(f"{self.bootstrap_url}{kind}.json")
            if data is None or not isinstance(data.get("services"), list):
                raise RdapError(f"the {kind} bootstrap file has no services")
            cached = {"services": data["services"]}
            self.cache.set(key, cached, self.ttl)
        return list(cached["services"])

    def _query(self, url: str, parse: Any) -> dict[str, Any]:
        data = self._get_json(url)
        if data is None:
            return _NOT_FOUND
        parsed = parse(data)
        parsed.source = url
        return asdict(parsed)

    def _get_json(self, url: str) -> dict[str, Any] | None:
        try:
            res = self.fetcher.fetch(url, headers={"Accept": "application/rdap+json"})
        except FetchError as exc:
            raise RdapError(f"{url}: {exc}") from None
        if res.status == 404:
            return None
        if res.status >= 400 or res.error is not None:
            raise RdapError(f"{url}: HTTP {res.status} {res.error or ''}".strip())
        try:
            data = json.loads(res.body)
        except ValueError as exc:
            raise RdapError(f"{url}: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise RdapError(f"{url}: not an RDAP object")
        return data


def _prefix_match(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, entry: str) -> int | None:
    try:
        net = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None
    return net.prefixlen if ip.version == net.version and ip in net else None


def _suffix_match(labels: list[str], entry: str) -> int | None:
    suffix = entry.strip(".").split(".")
    return len(suffix) if labels[-len(suffix) :] == suffix else None


def _vcard(entity: dict[str, Any], prop: str) -> str:
    card = entity.get("vcardArray")
    if not isinstance(card, list) or len(card) < 2 or not isinstance(card[1], list):
        return ""
    for item in card[1]:
        if isinstance(item, list) and len(item) >= 4 and item[0] == prop and item[3]:
            value = item[3]
            return str(value[0] if isinstance(value, list) else value).strip()
    return ""


def _entities(obj: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """Every entity of an RDAP object, nested ones included (ARIN nests abuse contacts)."""
    found: list[dict[str, Any]] = []
    if depth > 5:
        return found
    for entity in obj.get("entities") or []:
        if isinstance(entity, dict):
            found.append(entity)
            found.extend(_entities(entity, depth + 1))
    return found


def _with_role(entities: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    return [e for e in entities if role in (e.get("roles") or [])]


def _abuse_email(entities: list[dict[str, Any]]) -> str:
    return next((m for e in _with_role(entities, "abuse") if (m := _vcard(e, "email"))), "")


def _parse_ip(data: dict[str, Any]) -> IpRegistration:
    entities = _entities(data)
    holder = next(
        (n for e in _with_role(entities, "registrant") if (n := _vcard(e, "fn"))),
        "",
    )
    cidrs = []
    for item in data.get("cidr0_cidrs") or []:
        if isinstance(item, dict):
            prefix = item.get("v4prefix") or item.get("v6prefix")
            if prefix and item.get("length") is not None:
                cidrs.append(f"{prefix}/{item['length']}")
    return IpRegistration(
        network_name=str(data.get("name") or ""),
        handle=str(data.get("handle") or ""),
        start=str(data.get("startAddress") or ""),
        end=str(data.get("endAddress") or ""),
        cidrs=cidrs,
        country=str(data.get("country") or "").upper(),
        holder=holder,
        abuse_email=_abuse_email(entities),
    )


def _parse_dom(data: dict[str, Any]) -> DomainRegistration:
    registrars = _with_role(_entities(data), "registrar")
    registrar = registrars[0] if registrars else {}
    iana_id = next(
        (
            str(p.get("identifier"))
            for p in registrar.get("publicIds") or []
            if isinstance(p, dict) and "iana" in str(p.get("type", "")).lower()
        ),
        "",
    )
    return DomainRegistration(
        domain=str(data.get("ldhName") or "").lower(),
        registrar=_vcard(registrar, "fn") if registrar else "",
        registrar_iana_id=iana_id,
        registrar_abuse_email=_abuse_email(_entities(registrar)) if registrar else "",
    )
