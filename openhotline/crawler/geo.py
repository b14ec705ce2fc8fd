"""Which country and network an IP address belongs to, from offline data only.

The default is the data shipped inside the `geoip2fast` package (MaxMind
GeoLite2 country and AS data, IPv4 and IPv6, dated in the file): no lookup
ever leaves the machine, and the trace records the data's date, because
routing a notice on a year-old database should be visible. An operator can
point ``OPENHOTLINE_GEOIP_MMDB`` (country) and ``OPENHOTLINE_GEOIP_ASN_MMDB``
(AS number and name) at MaxMind or DB-IP ``.mmdb`` files instead; whatever
those lack is still taken from the shipped data.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class IpInfo:
    """Where an address is registered; empty strings and None mean "not known"."""

    address: str
    country: str = ""
    asn: int | None = None
    as_name: str = ""
    network: str = ""
    source: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class GeoDatabase(Protocol):
    def lookup(self, address: str) -> IpInfo: ...


class ShippedGeo:
    """The country and AS data that ships with the `geoip2fast` package.

    geoip2fast keeps its tables in module globals, so one instance per
    process is loaded (0.3 s, ~100 MB) on first use and then shared.
    """

    DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"
    _lock = threading.Lock()
    _db: Any = None

    def _load(self) -> Any:
        with self._lock:
            if ShippedGeo._db is None:
                from geoip2fast import GeoIP2Fast

                ShippedGeo._db = GeoIP2Fast(geoip2fast_data_file=self.DATA_FILE, verbose=False)
            return ShippedGeo._db

    @property
    def source(self) -> str:
        """ "geoip2fast <data name>, data of YYYY-MM-DD"."""
        info = str(getattr(self._load(), "source_info", ""))
        match = re.search(r"(\d{4})(\d{2})(\d{2})$", info)
        date = f", data of {match[1]}-{match[2]}-{match[3]}" if match else ""
        return f"geoip2fast {info}{date}".strip()

    def lookup(self, address: str) -> IpInfo:
        found = self._load().lookup(address)
        country = found.country_code if _COUNTRY.match(found.country_code or "") else ""
        if found.is_private:
            return IpInfo(address=address, source=self.source)
        return IpInfo(
            address=address,
            country=country,
            as_name=found.asn_name or "",
            network=found.asn_cidr or found.cidr or "",
            source=self.source,
        )


class MmdbGeo:
    """MaxMind/DB-IP `.mmdb` files chosen by the operator, over a fallback for the rest."""

    def __init__(self, country_path: str, asn_path: str, fallback: GeoDatabase) -> None:
        import maxminddb

        self.country_db = maxminddb.open_database(country_path) if country_path else None
        self.asn_db = maxminddb.open_database(asn_path) if asn_path else None
        self.fallback = fallback
        names = [Path(p).name for p in (country_path, asn_path) if p]
        self.names = ", ".join(names)

    def lookup(self, address: str) -> IpInfo:
        base = self.fallback.lookup(address)
        info = asdict(base)
        sources = []
        if self.country_db is not None:
            record, prefix = self.country_db.get_with_prefix_len(address)
            if isinstance(record, dict):
                country = _mmdb_country(record)
                if country:
                    info["country"] = country
                    info["network"] = _network(address, prefix)
                sources.append(_mmdb_source(self.country_db))
        if self.asn_db is not None:
            record, prefix = self.asn_db.get_with_prefix_len(address)
            if isinstance(record, dict) and record.get("autonomous_system_number"):
                info["asn"] = int(str(record["autonomous_system_number"]))
                info["as_name"] = str(record.get("autonomous_system_organization") or "")
                info["network"] = _network(address, prefix)
            sources.append(_mmdb_source(self.asn_db))
        info["source"] = "; ".join(sources + ([base.source] if base.source else []))
        return IpInfo(**info)


def _mmdb_country(record: dict[str, Any]) -> str:
    for key in ("country", "registered_country"):
        value = record.get(key)
        if isinstance(value, dict) and _COUNTRY.match(str(value.get("iso_code", ""))):
            return str(value["iso_code"])
    return ""


def _mmdb_source(db: Any) -> str:
    from datetime import UTC, datetime

    meta = db.metadata()
    built = datetime.fromtimestamp(meta.build_epoch, tz=UTC).date().isoformat()
    return f"{meta.database_type}, built {built}"


def _network(address: str, prefix: int) -> str:
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@lru_cache(maxsize=4)
def geo_database(country_mmdb: str = "", asn_mmdb: str = "") -> GeoDatabase:
    """The database for these settings (cached per process)."""
    shipped = ShippedGeo()
    if country_mmdb or asn_mmdb:
        return MmdbGeo(country_mmdb, asn_mmdb, shipped)
    return shipped
