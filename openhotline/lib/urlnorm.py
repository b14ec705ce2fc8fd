"""One canonical form per reported URL.

Reports of the same page arrive spelled many ways (mixed case, Unicode host names,
default ports, fragments, escaped tildes). Deconfliction and the blocklist compare
URLs as strings, so every URL entering the hotline goes through `normalize_url` first.

The rules follow what browsers do (the WHATWG URL standard) wherever that standard
and RFC 3986 agree, so the canonical URL is also the one a crawler fetches. One rule
goes further: query parameters that only track where a visitor came from
(`utm_source`, `fbclid`, ...) are dropped, so `/gallery/0?utm_source=x` is the same
reported URL as `/gallery/0`. The installation adds names with the setting
`OPENHOTLINE_TRACKING_PARAMS`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

import idna
from django.conf import settings
from publicsuffixlist import PublicSuffixList

DEFAULT_MAX_LENGTH = 2048

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# After "name:", a port number and then the end of the authority: "example.test:8080/x".
_LOOKS_LIKE_PORT_RE = re.compile(r"[0-9]*(?:[/?#\\]|$)")
# C0 controls, DEL and C1 controls: never part of a URL someone meant to send.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PERCENT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# What browsers percent-encode (WHATWG path and special-query percent-encode sets).
_PATH_ENCODE_RE = re.compile(r'[^\x21-\x7e]|["<>`{}]')
_QUERY_ENCODE_RE = re.compile(r"[^\x21-\x7e]|[\"<>']")
_FORBIDDEN_HOST_RE = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|]")
_ASCII_LABEL_RE = re.compile(r"[a-z0-9_-]+")
# Query parameters that say where a visitor came from, never which page it is. A
# trailing "*" matches every name with that prefix. Compared without case.
TRACKING_PARAMS = ("utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_eid", "mc_cid", "igshid")


class UrlError(ValueError):
    """A URL the hotline cannot accept; the message says why, for the reporter.

    `code` sorts the reasons ("empty", "too_long", "scheme", "host", "port",
    "invalid") so that a form can say it in the reporter's language.
    """

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NormalizedUrl:
    """A canonical URL and what normalising it removed that a caller may want to know."""

    url: str
    scheme: str
    host: str
    port: int | None
    had_userinfo: bool


def normalize_url(
    raw: str,
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    tracking_params: Iterable[str] | None = None,
) -> str:
    """Return the canonical form of `raw`, or raise `UrlError`."""
    return parse_url(raw, max_length=max_length, tracking_params=tracking_params).url


def host_of(raw: str) -> str:
    """Return the canonical host of a URL (punycode, lower case, IPv6 without brackets)."""
    return parse_url(raw).host


def registrable_host(raw: str) -> str:
    """Return the registrable domain of a URL's host ("a.b.example.co.uk" -> "example.co.uk").

    Blocking and deconfliction group by this name. Private suffixes of the public
    suffix list count as suffixes, so "someone.blogspot.com" stays apart from its
    neighbours. IP addresses, and hosts that are themselves a suffix, come back whole.
    """
    parsed = parse_url(raw)
    if _is_ip(parsed.host):
        return parsed.host
    return _suffix_list().privatesuffix(parsed.host) or parsed.host


def parse_url(
    raw: str,
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    tracking_params: Iterable[str] | None = None,
) -> NormalizedUrl:
    """Normalise a URL.

    1. Strip surrounding whitespace; refuse control characters and over-long input.
    2. Find the scheme (none means http); refuse anything but http and https.
    3. Split the authority; drop userinfo (noting it) and default ports.
    4. Canonicalise the host: IP literals as addresses, `.onion` as given, other
       names through UTS 46 and IDNA to punycode.
    5. Percent-encode what browsers encode, decode unreserved escapes, upper-case
       the rest, resolve dot segments; keep the query in its order; drop the fragment.
    6. Drop tracking parameters (`tracking_params`, by default `TRACKING_PARAMS`
       and the setting `OPENHOTLINE_TRACKING_PARAMS`) from the query.
    """
    text = raw.strip(" \t\r\n\f")
    if not text:
        raise UrlError("The URL is empty.", code="empty")
    if len(text) > max_length:
        raise UrlError(f"The URL is longer than {max_length} characters.", code="too_long")
    if _CONTROL_RE.search(text):
        raise UrlError("The URL contains control characters.")

    scheme, rest = _split_scheme(text)
    end = _first_index(rest, "/?#\\")
    authority, remainder = rest[:end], rest[end:]
    had_userinfo = "@" in authority
    if had_userinfo:
        authority = authority.rsplit("@", 1)[1]
    host, port = _split_host_port(authority)
    host = _canonical_host(host)
    if port is not None and port == _DEFAULT_PORTS[scheme]:
        port = None

    remainder = remainder.split("#", 1)[0]
    path, _, query = remainder.partition("?")
    path = _remove_dot_segments(_escape(path.replace("\\", "/"), _PATH_ENCODE_RE) or "/")
    query = _drop_tracking(
        _escape(query, _QUERY_ENCODE_RE),
        _tracking_matcher(
            tuple(tracking_params) if tracking_params is not None else configured_tracking_params()
        ),
    )

    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    url = f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
    if len(url) > max_length:
        raise UrlError(
            f"The URL is longer than {max_length} characters once normalised.", code="too_long"
        )
    return NormalizedUrl(url=url, scheme=scheme, host=host, port=port, had_userinfo=had_userinfo)


def configured_tracking_params() -> tuple[str, ...]:
    """`TRACKING_PARAMS` and the installation's own (`OPENHOTLINE_TRACKING_PARAMS`)."""
    extra: Iterable[str] = ()
    if settings.configured:
        extra = getattr(settings, "OPENHOTLINE_TRACKING_PARAMS", ())
    return TRACKING_PARAMS + tuple(extra)


@functools.lru_cache(maxsize=8)
def _tracking_matcher(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the parameter names to drop ("utm_*" matches a prefix)."""
    parts = [
        re.escape(name[:-1].lower()) + ".*" if name.endswith("*") else re.escape(name.lower())
        for name in (n.strip() for n in names)
        if name and name != "*"
    ]
    return re.compile("|".join(parts)) if parts else None


def _drop_tracking(query: str, matcher: re.Pattern[str] | None) -> str:
    if not query or matcher is None:
        return query
    kept = [
        pair for pair in query.split("&") if not matcher.fullmatch(pair.split("=", 1)[0].lower())
    ]
    return "&".join(kept)


def _split_scheme(text: str) -> tuple[str, str]:
    """Return (scheme, text after "scheme://"); scheme-less input is taken as http."""
    match = _SCHEME_RE.match(text)
    if match is None:
        return "http", text.lstrip("/\\")
    scheme, rest = match.group(1).lower(), text[match.end() :]
    if scheme in _DEFAULT_PORTS:
        # Browsers accept any number of slashes (or backslashes) after http:.
        return scheme, rest.lstrip("/\\")
    if not rest.startswith("//") and _LOOKS_LIKE_PORT_RE.match(rest):
        return "http", text  # "example.test:8080/path": a host and port, not a scheme
    raise UrlError(f"Only http and https URLs are accepted, not {scheme}:.", code="scheme")


def _first_index(text: str, chars: str) -> int:
    positions = [i for i in (text.find(c) for c in chars) if i >= 0]
    return min(positions, default=len(text))


def _split_host_port(authority: str) -> tuple[str, int | None]:
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise UrlError("The URL's IPv6 address has no closing bracket.", code="host")
        host, after = authority[: close + 1], authority[close + 1 :]
        if after and not after.startswith(":"):
            raise UrlError("The URL has text after its IPv6 address.", code="host")
        port_text = after[1:]
    else:
        host, _, port_text = authority.partition(":")
    if not port_text:
        return host, None
    if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
        raise UrlError("The URL's port is not a number from 0 to 65535.", code="port")
    return host, int(port_text)


def _canonical_host(host: str) -> str:
    if not host:
        raise UrlError("The URL has no host name.", code="host")
    if host.startswith("["):
        return _canonical_ipv6(host[1:-1])
    host = _percent_decode_host(host)
    if _FORBIDDEN_HOST_RE.search(host):
        raise UrlError(
            "The URL's host name contains characters a host name cannot have.", code="host"
        )
    try:
        # Case folding, full-width letters, and the ideographic full stop as a dot.
        host = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except idna.IDNAError as exc:
        raise UrlError(
            f"The URL's host name is not a valid international name: {exc}", code="host"
        ) from exc
    if host.endswith("."):
        host = host[:-1]  # "example.test." names the same host as "example.test"
    labels = host.split(".")
    if any(not label for label in labels):
        raise UrlError("The URL's host name has an empty label.", code="host")
    ipv4 = _parse_ipv4(labels)
    if ipv4 is not None:
        return ipv4
    if labels[-1] == "onion":
        if not all(_ASCII_LABEL_RE.fullmatch(label) for label in labels):
            raise UrlError("The URL's .onion host name is not valid.", code="host")
        return host
    ascii_host = ".".join(_ascii_label(label) for label in labels)
    if len(ascii_host) > 253:
        raise UrlError("The URL's host name is longer than 253 characters.", code="host")
    return ascii_host


def _canonical_ipv6(text: str) -> str:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError as exc:
        raise UrlError("The URL's IPv6 address is not valid.", code="host") from exc
    if address.scope_id is not None:
        raise UrlError(
            "The URL's IPv6 address has a zone, which is only meaningful locally.", code="host"
        )
    if address.ipv4_mapped is not None:
        # Python versions differ in how they print these; fix one spelling.
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


def _percent_decode_host(host: str) -> str:
    if "%" not in host:
        return host
    raw = _PERCENT_RE.sub(lambda m: chr(int(m.group(1), 16)), host)
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError) as exc:
        raise UrlError(
            "The URL's host name has percent-escapes that are not UTF-8.", code="host"
        ) from exc


def _parse_ipv4(labels: list[str]) -> str | None:
    """Parse an IPv4 host the way browsers do, including 0x7f.1 and 2130706433.

    Such spellings hide an address from a reader, so they become dotted decimal.
    Returns None when the host is a name, not an address.
    """
    last_label = labels[-1]
    if not (last_label.isascii() and last_label.isdigit()) and _ipv4_number(last_label) is None:
        return None
    numbers = [_ipv4_number(label) for label in labels]
    invalid = UrlError("The URL's host looks like an IPv4 address but is not one.", code="host")
    if len(numbers) > 4:
        raise invalid
    value = 0
    for i, number in enumerate(numbers):
        last = i == len(numbers) - 1
        limit = 256 ** (5 - len(numbers)) if last else 256
        if number is None or number >= limit:
            raise invalid
        value += number if last else number * 256 ** (3 - i)
    return str(ipaddress.IPv4Address(value))


def _ipv4_number(label: str) -> int | None:
    if label[:2] in ("0x", "0X"):
        digits, base, allowed = label[2:], 16, "0123456789abcdefABCDEF"
    elif len(label) > 1 and label.startswith("0"):
        digits, base, allowed = label[1:], 8, "01234567"
    else:
        digits, base, allowed = label, 10, "0123456789"
    if not all(c in allowed for c in digits):
        return None
    return int(digits, base) if digits else 0


def _ascii_label(label: str) -> str:
    if len(label) > 63:
        raise UrlError("A label of the URL's host name is longer than 63 characters.", code="host")
    if label.isascii():
        if not _ASCII_LABEL_RE.fullmatch(label):
            raise UrlError(
                "The URL's host name contains characters a host name cannot have.", code="host"
            )
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError) as exc:
                raise UrlError(
                    f"The URL's host name has an invalid IDNA label: {label}", code="host"
                ) from exc
        return label
    try:
        encoded = idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise UrlError(
            f"The URL's host name is not a valid international name: {exc}", code="host"
        ) from exc
    if len(encoded) > 63:
        raise UrlError("A label of the URL's host name is longer than 63 characters.", code="host")
    return encoded


def _escape(text: str, encode_re: re.Pattern[str]) -> str:
    """Percent-encode what browsers encode, then make every escape canonical."""
    try:
        text = encode_re.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)
    except UnicodeEncodeError as exc:
        raise UrlError("The URL contains characters that are not valid Unicode.") from exc
    return _PERCENT_RE.sub(_canonical_escape, text)


def _canonical_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else f"%{match.group(1).upper()}"


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on a path that starts with "/"; "//" stays as it is."""
    segments = path.split("/")[1:]
    out: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment in (".", ".."):
            if segment == ".." and out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@functools.cache
def _suffix_list() -> PublicSuffixList:
    # The package ships its list; building the lookup table takes a moment, so once.
    return PublicSuffixList()
