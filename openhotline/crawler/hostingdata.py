"""Hosting data the operator refreshes: CDN ranges and an IP-to-AS table, loaded from files.

`openhotline crawler data update …` reads the providers' own published files
(never downloads them: the operator fetches them, so what the trace relies on
is what the operator chose), checks every line, converts them, and writes one
file per data set under ``<OPENHOTLINE_DATA>/hosting-data/`` through a
temporary file and a rename, so a bad file leaves the previous data in
place. Each data set records its date (the file's own, such as AWS's
``createDate``, else the time of loading) and its source.

- CDN ranges go to ``cdn/<provider>.txt`` in the format of the built-in lists
  (openhotline/crawler/data/cdn/README.md) and replace the built-in list of
  that provider; providers without loaded data keep the built-in list
  (dated 2024-01-01), marked as such in the trace and on the status page.
- The AS table (iptoasn.com's ``ip2asn-v4.tsv`` / ``ip2asn-v6.tsv`` /
  ``ip2asn-combined.tsv``: start, end, AS number, country, AS name) goes to
  ``asn.tsv`` and gives the trace AS numbers and names; the country and
  whatever it lacks still come from the offline geo database.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from openhotline.crawler.cdn import SHIPPED_DIR, CdnProvider, load_providers, parse_ranges
from openhotline.crawler.geo import GeoDatabase, IpInfo

STALE_DAYS = 90
ASN_FILE = "asn.tsv"


class HostingDataError(ValueError):
    """A file given to `update` is not what it claims to be; one line, naming file and place."""


@dataclass(frozen=True)
class ProviderFormat:
    """A provider the command knows: where its list is published and in which format."""

    key: str
    name: str
    abuse: str
    source: str
    fmt: str  # "text", "aws", "fastly", "google", "imperva"


PROVIDERS = {
    p.key: p
    for p in (
        ProviderFormat(
            "cloudflare",
            "Cloudflare",
            "abuse@cloudflare.com (web form: https://abuse.cloudflare.com/)",
            "https://www.cloudflare.com/ips-v4 and https://www.cloudflare.com/ips-v6",
            "text",
        ),
        ProviderFormat(
            "cloudfront",
            "Amazon CloudFront",
            "abuse@amazonaws.com",
            "https://ip-ranges.amazonaws.com/ip-ranges.json (service CLOUDFRONT)",
            "aws",
        ),
        ProviderFormat(
            "fastly",
            "Fastly",
            "abuse@fastly.com",
            "https://api.fastly.com/public-ip-list",
            "fastly",
        ),
        ProviderFormat(
            "imperva",
            "Imperva (Incapsula)",
            "",
            "https://my.imperva.com/api/integration/v1/ips (ipRanges, ipv6Ranges)",
            "imperva",
        ),
        ProviderFormat(
            "akamai",
            "Akamai",
            "abuse@akamai.com",
            # Akamai's edge servers are the addresses its customers' sites resolve to; the
            # one list it documents is theirs, published for origin firewalls.
            "Akamai's Origin IP ACL list, the .txt downloads of"
            " https://techdocs.akamai.com/origin-ip-acl/docs/update-your-origin-server",
            "text",
        ),
        ProviderFormat(
            "google",
            "Google",
            "",
            "https://www.gstatic.com/ipranges/goog.json (or cloud.json)",
            "google",
        ),
    )
}


def data_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "hosting-data"


# --- parsing the published formats -------------------------------------------------


def _network(value: Any, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        raise HostingDataError(f"{where}: {str(value)[:60]!r} is not an IP network") from None


def _json(text: str, label: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HostingDataError(f"{label}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise HostingDataError(f"{label}: expected a JSON object")
    return data


def _list(data: dict[str, Any], key: str, label: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise HostingDataError(f"{label}: {key!r} is not a list")
    return value


# JSON lists of two plain arrays (IPv4, IPv6): the keys, and what the file should be.
_TWO_LISTS: dict[str, tuple[tuple[str, str], str]] = {
    "fastly": (("addresses", "ipv6_addresses"), "Fastly's public-ip-list"),
    "imperva": (("ipRanges", "ipv6Ranges"), "Imperva's list"),
}


def parse_provider_file(fmt: str, text: str, label: str) -> tuple[list[str], str]:
    """The networks in one published file, and the file's own date ("" if it has none)."""
    if fmt == "text":
        nets = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if line:
                nets.append(str(_network(line, f"{label}, line {number}")))
        return nets, ""
    data = _json(text, label)
    if fmt == "aws":
        if "prefixes" not in data:
            raise HostingDataError(f"{label}: no 'prefixes': not AWS's ip-ranges.json")
        nets = []
        for key, field in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")):
            for index, entry in enumerate(_list(data, key, label)):
                if isinstance(entry, dict) and entry.get("service") == "CLOUDFRONT":
                    nets.append(str(_network(entry.get(field), f"{label}, {key}[{index}]")))
        # createDate: "2024-01-05-22-13-07"
        created = str(data.get("createDate", ""))
        return nets, _date_of(created[:10], label) if created else ""
    if fmt in _TWO_LISTS:
        keys, what = _TWO_LISTS[fmt]
        if keys[0] not in data:
            raise HostingDataError(f"{label}: no '{keys[0]}': not {what}")
        nets = [
            str(_network(value, f"{label}, {key}[{i}]"))
            for key in keys
            for i, value in enumerate(_list(data, key, label))
        ]
        return nets, ""
    if fmt == "google":
        if "prefixes" not in data:
            raise HostingDataError(f"{label}: no 'prefixes': not Google's goog.json/cloud.json")
        nets = []
        for index, entry in enumerate(_list(data, "prefixes", label)):
            value = (
                entry.get("ipv4Prefix") or entry.get("ipv6Prefix")
                if isinstance(entry, dict)
                else None
            )
            nets.append(str(_network(value, f"{label}, prefixes[{index}]")))
        created = str(data.get("creationTime", ""))
        return nets, _date_of(created[:10], label) if created else ""
    raise HostingDataError(f"unknown format {fmt!r}")


def _date_of(value: str, label: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise HostingDataError(f"{label}: its date {value!r} is not a date") from None


# --- writing -------------------------------------------------------------------------


def _write_atomically(path: Path, lines: Iterable[str]) -> None:
    """All or nothing: a temporary file in the same directory, flushed, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for line in lines:
                out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _today() -> str:
    return datetime.now(tz=UTC).date().isoformat()


def update_cdn(
    key: str, files: list[tuple[str, str]], *, directory: Path | None = None
) -> CdnProvider:
    """Load one provider's ranges from its published files (label, text), all or nothing."""
    if key not in PROVIDERS:
        raise HostingDataError(f"unknown provider {key!r}; known: {', '.join(sorted(PROVIDERS))}")
    provider = PROVIDERS[key]
    networks: list[str] = []
    dates: list[str] = []
    for label, text in files:
        nets, own_date = parse_provider_file(provider.fmt, text, label)
        networks.extend(nets)
        if own_date:
            dates.append(own_date)
    if not networks:
        raise HostingDataError(f"{key}: the files hold no {provider.name} networks")
    as_of = min(dates) if dates else _today()
    header = [
        f"# provider: {provider.name}",
        f"# abuse: {provider.abuse}",
        f"# source: {provider.source}",
        f"# as-of: {as_of}",
        "# complete: yes",
        f"# loaded: {datetime.now(tz=UTC).isoformat(timespec='seconds')}"
        f" from {', '.join(label for label, _ in files)}",
        f"# date-from: {'the file' if dates else 'the time of loading'}",
    ]
    unique = list(dict.fromkeys(networks))
    target = (directory or data_dir()) / "cdn" / f"{key}.txt"
    _write_atomically(target, header + unique)
    return parse_ranges(target.read_text(encoding="utf-8"), target.name)


def parse_asn_table(text: str, label: str) -> list[tuple[str, str, int, str, str]]:
    """iptoasn.com's TSV: range start, range end, AS number, country, AS description."""
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.rstrip("\r\n").split("\t")
        where = f"{label}, line {number}"
        if len(fields) < 5:
            raise HostingDataError(f"{where}: expected 5 tab-separated fields, found {len(fields)}")
        try:
            start, end = ipaddress.ip_address(fields[0]), ipaddress.ip_address(fields[1])
            asn = int(fields[2])
        except ValueError as exc:
            raise HostingDataError(f"{where}: {exc}") from None
        if start.version != end.version or int(end) < int(start) or asn < 0:
            raise HostingDataError(f"{where}: {fields[0]}-{fields[1]} is not a range")
        country = fields[3].strip()
        if country in ("None", "ZZ"):
            country = ""
        rows.append((str(start), str(end), asn, country, fields[4].strip()))
    if not rows:
        raise HostingDataError(f"{label}: no ranges (expected iptoasn.com's ip2asn TSV)")
    return rows


def update_asn(files: list[tuple[str, str]], *, directory: Path | None = None) -> AsnDataset:
    rows: list[tuple[str, str, int, str, str]] = []
    for label, text in files:
        rows.extend(parse_asn_table(text, label))
    header = [
        "# dataset: IP-to-AS table",
        "# source: iptoasn.com ip2asn TSV (https://iptoasn.com/)",
        f"# as-of: {_today()}",
        f"# loaded: {datetime.now(tz=UTC).isoformat(timespec='seconds')}"
        f" from {', '.join(label for label, _ in files)}",
        "# date-from: the time of loading (the table carries no date)",
    ]
    target = (directory or data_dir()) / ASN_FILE
    _write_atomically(target, header + ["\t".join(map(str, row)) for row in rows])
    return read_asn_header(target)


# --- reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class AsnDataset:
    source: str
    as_of: str
    loaded: str
    ranges: int


def read_asn_header(path: Path, *, count: bool = True) -> AsnDataset:
    """The table's header; its ranges counted only if `count` (the status needs no count)."""
    header: dict[str, str] = {}
    ranges = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                key, _, value = line[1:].partition(":")
                header[key.strip()] = value.strip()
            elif not count:
                break
            elif line.strip():
                ranges += 1
    return AsnDataset(
        header.get("source", ""), header.get("as-of", ""), header.get("loaded", ""), ranges
    )


class AsnTable:
    """Sorted ranges per IP version, looked up by bisection."""

    def __init__(self, path: Path) -> None:
        self.dataset = read_asn_header(path)
        rows: dict[int, list[tuple[int, int, int, str]]] = {4: [], 6: []}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("#") or not line.strip():
                    continue
                start, end, asn, _country, name = line.rstrip("\n").split("\t")
                first = ipaddress.ip_address(start)
                rows[first.version].append(
                    (int(first), int(ipaddress.ip_address(end)), int(asn), name)
                )
        self.tables = {v: sorted(r) for v, r in rows.items()}
        self.starts = {v: [r[0] for r in t] for v, t in self.tables.items()}

    def lookup(self, address: str) -> tuple[int, str, str] | None:
        """(AS number, AS name, network) for `address`, or None when no AS announces it."""
        ip = ipaddress.ip_address(address)
        index = bisect.bisect_right(self.starts[ip.version], int(ip)) - 1
        if index < 0:
            return None
        start, end, asn, name = self.tables[ip.version][index]
        if int(ip) > end or asn == 0:  # iptoasn marks unannounced space with AS 0
            return None
        cls = ipaddress.IPv4Address if ip.version == 4 else ipaddress.IPv6Address
        nets = ipaddress.summarize_address_range(cls(start), cls(end))
        network = next((str(n) for n in nets if ip in n), "")
        return asn, name, network


class AsnTableGeo:
    """The operator's AS table over the geo database (which keeps the country)."""

    def __init__(self, table: AsnTable, fallback: GeoDatabase) -> None:
        self.table, self.fallback = table, fallback

    def lookup(self, address: str) -> IpInfo:
        base = self.fallback.lookup(address)
        found = self.table.lookup(address)
        if found is None:
            return base
        asn, name, network = found
        source = f"AS table of {self.table.dataset.as_of} ({self.table.dataset.source})"
        return replace(
            base,
            asn=asn,
            as_name=name or base.as_name,
            network=network or base.network,
            source="; ".join(s for s in (source, base.source) if s),
        )


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


@lru_cache(maxsize=2)
def _asn_table(path: str, mtime: int) -> AsnTable | None:
    return AsnTable(Path(path)) if mtime else None


def current_geo(base: GeoDatabase, directory: Path | None = None) -> GeoDatabase:
    """`base` with the loaded AS table over it, if one is loaded (re-read when it changes)."""
    path = (directory or data_dir()) / ASN_FILE
    table = _asn_table(str(path), _mtime(path))
    return base if table is None else AsnTableGeo(table, base)


def current_providers(
    extra_dir: str = "", directory: Path | None = None
) -> tuple[CdnProvider, ...]:
    """Loaded ranges over the built-in ones; `extra_dir` (OPENHOTLINE_CDN_RANGES_DIR) last."""
    loaded = (directory or data_dir()) / "cdn"
    stamp = (
        tuple((p.name, _mtime(p)) for p in sorted(loaded.glob("*.txt"))) if loaded.is_dir() else ()
    )
    return _providers(str(loaded), stamp, extra_dir)


@lru_cache(maxsize=4)
def _providers(
    loaded: str, stamp: tuple[tuple[str, int], ...], extra_dir: str
) -> tuple[CdnProvider, ...]:
    files = {path.name: ("built-in", path) for path in sorted(SHIPPED_DIR.glob("*.txt"))}
    files.update({name: ("loaded", Path(loaded) / name) for name, _ in stamp})
    if extra_dir:
        files.update(
            {
                p.name: ("OPENHOTLINE_CDN_RANGES_DIR", p)
                for p in sorted(Path(extra_dir).glob("*.txt"))
            }
        )
    return tuple(
        replace(parse_ranges(path.read_text(encoding="utf-8"), name), origin=origin)
        for name, (origin, path) in sorted(files.items())
    )


# --- status --------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetStatus:
    name: str
    origin: str  # "built-in", "loaded", the setting that names it, or "not loaded"
    as_of: str
    source: str
    age_days: int | None
    stale: bool

    @classmethod
    def dated(cls, name: str, origin: str, as_of: str, source: str) -> DatasetStatus:
        """A data set in use, stale when older than STALE_DAYS or of no known date."""
        try:
            age: int | None = (datetime.now(tz=UTC).date() - date.fromisoformat(as_of)).days
        except ValueError:
            age = None
        return cls(name, origin, as_of, source, age, age is None or age > STALE_DAYS)

    @classmethod
    def not_loaded(cls, name: str) -> DatasetStatus:
        return cls(name, "not loaded", "", "", None, False)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def dataset_status(extra_dir: str = "", directory: Path | None = None) -> list[DatasetStatus]:
    """Each CDN list and the IP-to-AS table, its date, and whether it is older than STALE_DAYS."""
    result = [
        DatasetStatus.dated(
            f"CDN ranges: {provider.name}", provider.origin, provider.as_of, provider.source
        )
        for provider in current_providers(extra_dir, directory)
    ]
    path = (directory or data_dir()) / ASN_FILE
    if not path.is_file():
        result.append(DatasetStatus.not_loaded("IP-to-AS table"))
    else:
        dataset = read_asn_header(path, count=False)
        result.append(
            DatasetStatus.dated("IP-to-AS table", "loaded", dataset.as_of, dataset.source)
        )
    return result


__all__ = [
    "PROVIDERS",
    "STALE_DAYS",
    "AsnTable",
    "AsnTableGeo",
    "HostingDataError",
    "current_geo",
    "current_providers",
    "dataset_status",
    "load_providers",
    "update_asn",
    "update_cdn",
]
