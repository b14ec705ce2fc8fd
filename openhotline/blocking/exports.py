"""The published list in the formats providers load: RPZ, hosts, Unbound, dnsmasq, CSV,
JSON and a Squid ACL file.

DNS can only block whole names, so the DNS exports carry only the names the
hotline chose to block whole: domain entries (the domain and every name below
it) and whole-host entries (that one name). A URL-level entry never widens into
its host there: one image on a shared image host would otherwise take the host
off the internet for every customer of every provider (the 2012 Danish failure
in a smaller form). URL entries go to the URL-capable exports only (CSV, JSON,
Squid); each DNS export says in its header how many it left out, and why.

Writers take rows ordered by host (``versions.rows_at``), fold the entries of one
host into one name, and write in large chunks: a million entries take seconds.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from django.conf import settings

from openhotline.blocking.models import WHOLE_NAME_KINDS, EntryKind
from openhotline.blocking.squid import squid_pattern

ACTIONS = ("local-data", "cname", "nxdomain")
DNS_FORMATS = ("rpz", "hosts", "unbound", "dnsmasq")
URL_FORMATS = ("csv", "json", "squid")
FORMATS = (*DNS_FORMATS, *URL_FORMATS)
CONTENT_TYPES = {
    "squid": "text/plain; charset=utf-8",
    "rpz": "text/dns; charset=utf-8",
    "hosts": "text/plain; charset=utf-8",
    "unbound": "text/plain; charset=utf-8",
    "dnsmasq": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
DNS_NOTE = (
    "DNS exports carry only names blocked whole: domains (with every name below) and "
    "whole hosts (that name only), each marked dedicated to abuse material. URL-level "
    "entries are left out of them, as DNS would block the URL's whole host; block them "
    "with a proxy from the CSV, JSON or Squid export."
)
_CHUNK = 5000
# Raised when an export's content changes for the same version and options, so
# cached files are rebuilt and providers' ETags change (2: Squid patterns match
# the percent-decoded URL, as Squid does).
FORMAT_REVISION = 2


class ExportError(ValueError):
    """The export cannot be made as configured (no stop-page address, say)."""


@dataclass(frozen=True)
class ExportOptions:
    action: str = "local-data"
    addresses: tuple[str, ...] = ()
    stop_host: str = ""
    zone: str = "rpz.openhotline.invalid"
    ttl: int = 300

    @classmethod
    def from_settings(cls, action: str | None = None) -> ExportOptions:
        return cls(
            action=action or settings.OPENHOTLINE_BLOCKLIST_ACTION,
            addresses=tuple(settings.OPENHOTLINE_STOPPAGE_ADDRESSES),
            stop_host=settings.OPENHOTLINE_STOPPAGE_HOST.rstrip("."),
            zone=settings.OPENHOTLINE_RPZ_ZONE.rstrip("."),
            ttl=settings.OPENHOTLINE_RPZ_TTL,
        )

    def check(self, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
        if self.action not in ACTIONS:
            raise ExportError(f"unknown action {self.action!r} (one of {', '.join(ACTIONS)})")
        for address in self.addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ExportError(f"stop-page address {address!r} is not an IP address") from None
        if fmt in DNS_FORMATS and self.action == "local-data" and not self.addresses:
            raise ExportError(
                "the local-data action needs the stop page's addresses: set "
                "OPENHOTLINE_STOPPAGE_ADDRESSES, or choose the nxdomain action"
            )
        if fmt in ("rpz", "unbound") and self.action == "cname" and not self.stop_host:
            raise ExportError("the cname action needs OPENHOTLINE_STOPPAGE_HOST")

    def records(self) -> list[tuple[str, str]]:
        """(type, data) of the stop page's address records."""
        out = []
        for address in self.addresses:
            version = ipaddress.ip_address(address).version
            out.append(("A" if version == 4 else "AAAA", address))
        return out


def unservable_formats(options: ExportOptions | None = None) -> dict[str, str]:
    """The feed formats that cannot be served as configured, each with the reason.

    Shown to the hotline on its blocking pages and to providers on theirs, so
    a missing stop-page address is seen before a provider gets a 503.
    """
    options = options or ExportOptions.from_settings()
    problems: dict[str, str] = {}
    for fmt in FORMATS:
        try:
            options.check(fmt)
        except ExportError as exc:
            problems[fmt] = str(exc)
    return problems


@dataclass(frozen=True)
class ListInfo:
    """What the header of every export says about the version."""

    hotline: str
    serial: int
    published_at: datetime
    entries: int
    # URL-level entries in the version: what the DNS exports leave out.
    url_entries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def fold_hosts(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[str, bool]]:
    """``(name, whole_domain)`` once per name blocked whole, of rows ordered by host.

    URL-level rows are skipped: DNS never widens a URL into its host. A name
    with both a whole-host and a domain entry is a domain (the wider of the two).
    """
    current = ""
    domain = False
    for kind, host, _value, _code in rows:
        if kind not in WHOLE_NAME_KINDS:
            continue
        if host != current:
            if current:
                yield current, domain
            current, domain = host, False
        if kind == EntryKind.DOMAIN:
            domain = True
    if current:
        yield current, domain


def _header(info: ListInfo, comment: str, options: ExportOptions) -> str:
    whole = info.entries - info.url_entries
    lines = [
        f"openhotline blocklist of {info.hotline}, version {info.serial}",
        f"published {info.published_at.isoformat(timespec='seconds')}, {info.entries} entries",
        f"action: {options.action}",
        f"{whole} entries blocked whole here (domains and whole hosts marked dedicated).",
        f"{info.url_entries} URL-level entries left out: DNS would block each URL's whole "
        "host, taking every other page of a shared host off the internet.",
        DNS_NOTE,
        "A domain-level entry also covers every name below the domain; a whole-host "
        "entry covers its own name only.",
    ]
    return "".join(f"{comment} {line}\n" for line in lines)


def _write_chunked(out: TextIO, pieces: Iterable[str]) -> None:
    """Write ``pieces`` joined in batches of ``_CHUNK``: few large writes, bounded memory."""
    batch: list[str] = []
    for piece in pieces:
        batch.append(piece)
        if len(batch) >= _CHUNK:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))


def write_rpz(
    out: TextIO, rows: Iterable[tuple[Any, ...]], info: ListInfo, o: ExportOptions
) -> None:
    """An RPZ zone: SOA serial = version; local data, a CNAME, or ``CNAME .`` (NXDOMAIN)."""
    if o.action == "local-data":
        tail = "".join(f"\t{rtype}\t{data}\n" for rtype, data in o.records())
    elif o.action == "cname":
        tail = f"\tCNAME\t{o.stop_host}.\n"
    else:
        tail = "\tCNAME\t.\n"
    out.write(_header(info, ";", o))
    out.write(
        f"$ORIGIN {o.zone}.\n$TTL {o.ttl}\n"
        f"@\tSOA\tlocalhost. hostmaster.{o.zone}. ({info.serial} 3600 600 604800 {o.ttl})\n"
        "\tNS\tlocalhost.\n"
    )
    _write_chunked(
        out,
        (
            f"{host}{tail}*.{host}{tail}" if domain else f"{host}{tail}"
            for host, domain in fold_hosts(rows)
        ),
    )


def write_hosts(
    out: TextIO, rows: Iterable[tuple[Any, ...]], info: ListInfo, o: ExportOptions
) -> None:
    """hosts file lines; no wildcards exist, so a domain entry blocks its own name only."""
    addresses = [a for _t, a in o.records()] if o.action != "nxdomain" else []
    addresses = addresses or ["0.0.0.0"]  # noqa: S104 - the conventional "nowhere" address
    out.write(_header(info, "#", o))
    out.write("# hosts files have no wildcards: names below a domain are not covered.\n")
    _write_chunked(
        out,
        (f"{address} {host}\n" for host, _domain in fold_hosts(rows) for address in addresses),
    )


def write_unbound(
    out: TextIO, rows: Iterable[tuple[Any, ...]], info: ListInfo, o: ExportOptions
) -> None:
    """Unbound ``local-zone``/``local-data`` lines, to include in its ``server:`` clause.

    With local data, a whole host is a ``transparent`` zone (its own name only;
    other types answer no data); a domain is a ``redirect`` zone (every name
    below). Unbound's local zones have no exact-name NXDOMAIN or CNAME, so with
    the nxdomain and cname actions names below a whole host are blocked too
    (the RPZ export blocks the exact name with every action).
    """
    out.write(_header(info, "#", o))
    records = o.records()

    def lines() -> Iterator[str]:
        for host, domain in fold_hosts(rows):
            if o.action == "nxdomain":
                yield f'local-zone: "{host}." always_nxdomain\n'
            elif o.action == "cname":
                yield f'local-zone: "{host}." redirect\n'
                yield f'local-data: "{host}. CNAME {o.stop_host}."\n'
            else:
                yield f'local-zone: "{host}." {"redirect" if domain else "transparent"}\n'
                yield from (f'local-data: "{host}. {rtype} {data}"\n' for rtype, data in records)

    _write_chunked(out, lines())


def write_dnsmasq(
    out: TextIO, rows: Iterable[tuple[Any, ...]], info: ListInfo, o: ExportOptions
) -> None:
    """dnsmasq lines: ``address=`` for a domain (dnsmasq covers every name below it),
    ``host-record=`` for a whole host with local data (that one name only)."""
    out.write(_header(info, "#", o))
    out.write(
        "# address= covers every name below each domain; host-record= answers one name only.\n"
        "# dnsmasq has no exact-name NXDOMAIN: with the nxdomain action, names below a\n"
        "# whole host are blocked too (the RPZ export blocks the exact name).\n"
    )
    addresses = [a for _t, a in o.records()] if o.action != "nxdomain" else []
    targets = addresses or [""]

    def lines() -> Iterator[str]:
        for host, domain in fold_hosts(rows):
            if addresses and not domain:
                yield f"host-record={host},{','.join(addresses)}\n"
            else:
                yield from (f"address=/{host}/{address}\n" for address in targets)

    _write_chunked(out, lines())


def write_csv(
    out: TextIO, rows: Iterable[tuple[Any, ...]], info: ListInfo, o: ExportOptions
) -> None:
    """Every entry, URLs included: ``kind,value,host,code``."""
    out.write("kind,value,host,code\n")
    _write_chunked(
        out, (f"{kind},{csv_field(value)},{host},{code}\n" for kind, host, value, code in rows)
    )


def write_json(
    out: TextIO, rows: Iterable[tuple[Any, ...]], info: ListInfo, o: ExportOptions
) -> None:
    """Every entry, URLs included, streamed as one JSON object."""
    head = {
        "hotline": info.hotline,
        "version": info.serial,
        "published_at": info.published_at.isoformat(timespec="seconds"),
        "entry_count": info.entries,
        "note": DNS_NOTE,
        **info.extra,
    }
    out.write(json.dumps(head)[:-1] + ', "entries": [')
    items = (
        json.dumps({"kind": kind, "value": value, "host": host, "code": code})
        for kind, host, value, code in rows
    )
    _write_chunked(out, (item if i == 0 else "," + item for i, item in enumerate(items)))
    out.write("]}\n")


def write_squid(
    out: TextIO, rows: Iterable[tuple[Any, ...]], info: ListInfo, o: ExportOptions
) -> None:
    """A Squid ACL file of ``url_regex`` patterns, one per entry, URLs included.

    ``url_regex`` rather than ``dstdomain``: dstdomain matches host names only,
    so it would widen a URL into its host exactly as DNS does. The patterns are
    written for what Squid matches (``squid.py``): the percent-decoded URL.
    """
    lines = [
        f"openhotline blocklist of {info.hotline}, version {info.serial}",
        f"published {info.published_at.isoformat(timespec='seconds')}, {info.entries} entries",
        "Squid url_regex patterns, one per entry: URLs exactly (as Squid matches them,",
        "percent-escapes decoded), whole hosts, and domains with every name below.",
        "Case-sensitive on purpose: Squid lower-cases the host, and paths differ by case.",
        "Use it as:",
        '  acl openhotline url_regex "/etc/squid/openhotline.acl"',
        "  http_access deny openhotline",
    ]
    out.write("".join(f"# {line}\n" for line in lines))
    _write_chunked(
        out, (squid_pattern(kind, host, value) + "\n" for kind, host, value, _code in rows)
    )


def csv_field(value: str) -> str:
    # Canonical URLs escape quotes, but commas are legal in them.
    if "," in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


WRITERS = {
    "rpz": write_rpz,
    "hosts": write_hosts,
    "unbound": write_unbound,
    "dnsmasq": write_dnsmasq,
    "csv": write_csv,
    "json": write_json,
    "squid": write_squid,
}


def write_export(
    fmt: str, out: TextIO, rows: Iterable[tuple[Any, ...]], info: ListInfo, options: ExportOptions
) -> None:
    options.check(fmt)
    WRITERS[fmt](out, rows, info, options)
