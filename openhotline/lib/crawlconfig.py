"""Parsing of the crawler's settings, so a typo stops start-up with the setting's name.

settings.py calls these; they know nothing of Django but its
``ImproperlyConfigured``, so they run before the apps are loaded.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from openhotline.lib.netcheck import IPNetwork, parse_allow_list

RENDER_MODES = ("off", "when-no-media", "always")
PROXY_SCHEMES = ("http", "socks4", "socks5", "socks5h")


def fetch_allow(name: str, raw: str) -> tuple[IPNetwork, ...]:
    """Parse an allow-list setting ("127.0.0.1, 10.1.0.0/16"); a bad entry names the setting."""
    try:
        return parse_allow_list(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name}: {exc} (expected comma-separated addresses or networks such as"
            " 127.0.0.1 or 10.1.0.0/16)"
        ) from None


def render_mode(name: str, raw: str) -> str:
    """One of off, when-no-media, always."""
    value = raw.strip().lower() or "off"
    if value not in RENDER_MODES:
        raise ImproperlyConfigured(
            f"{name}: expected one of {', '.join(RENDER_MODES)}, got {raw!r}"
        )
    return value


def proxy_url(name: str, raw: str) -> str | None:
    """An egress proxy URL (http://, socks5://, socks5h://, socks4://) or None when empty."""
    value = raw.strip()
    if not value:
        return None
    parts = urlsplit(value)
    try:
        _ = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name}: bad port in {value!r}") from None
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name}: expected a proxy URL such as socks5h://127.0.0.1:9050 or"
            f" http://proxy.example:3128, got {value!r}"
        )
    return value


def dns_servers(name: str, raw: str) -> list[tuple[str, int]]:
    """Parse "9.9.9.9, 127.0.0.1:5353, [::1]:53" into (address, port) pairs."""
    servers: list[tuple[str, int]] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, port = item, 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest:
                port = _port(name, item, rest.removeprefix(":"))
        elif item.count(":") == 1:
            host, _, port_text = item.partition(":")
            port = _port(name, item, port_text)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address (with an optional :port)"
            ) from None
        servers.append((host, port))
    return servers


def _port(name: str, item: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ImproperlyConfigured(f"{name}: bad port in {item!r}")
    return int(text)
