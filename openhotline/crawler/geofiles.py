"""The offline geo and AS databases as `.mmdb` files the operator loads, and their dates.

The shipped data (GeoLite2 inside the `geoip2fast` package) ages with the
package. `openhotline crawler data update geo FILE.mmdb` (a country or city
database: MaxMind GeoLite2/GeoIP2, DB-IP Lite) and `… update asn FILE.mmdb`
(MaxMind GeoLite2-ASN, DB-IP ASN Lite) check the file with the same reader
the trace uses and install it under ``<OPENHOTLINE_DATA>/hosting-data/``
through a temporary file and a rename, so a bad file leaves the previous
one in force. ``OPENHOTLINE_GEOIP_MMDB`` / ``OPENHOTLINE_GEOIP_ASN_MMDB``,
when set, still come first (as ``OPENHOTLINE_CDN_RANGES_DIR`` does for the
CDN ranges).
"""

from __future__ import annotations

import gzip
import os
import pickletools
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, cast

from openhotline.crawler.geo import GeoDatabase, MmdbGeo, ShippedGeo
from openhotline.crawler.hostingdata import HostingDataError, data_dir

# Where each kind is installed, and what its metadata's database_type must name.
MMDB_FILES = {"geo": "country.mmdb", "asn": "asn.mmdb"}
_KIND_TYPES = {"geo": re.compile(r"country|city", re.I), "asn": re.compile(r"asn", re.I)}
_KIND_NAMES = {"geo": "a country or city database", "asn": "an ASN database"}
# The MaxMind DB format's metadata marker (the file ends with the metadata after it).
MMDB_MARKER = b"\xab\xcd\xefMaxMind.com"


@dataclass(frozen=True)
class MmdbDataset:
    """What an .mmdb file says of itself: its type and the day it was built."""

    database_type: str
    built: str  # YYYY-MM-DD

    @property
    def source(self) -> str:
        return f"{self.database_type}, built {self.built}"


def is_mmdb(data: bytes) -> bool:
    """Whether `data` is a MaxMind DB file (rather than a TSV table)."""
    return MMDB_MARKER in data[-256 * 1024 :]


# Addresses looked up in a file before it is installed: each walks the search tree into
# the data section, which a file cut short does not have.
_PROBES = ("1.1.1.1", "8.8.8.8", "193.0.6.139", "192.0.2.7", "203.0.113.9")
_PROBES_V6 = ("2001:4860:4860::8888", "2a00:1450:4001::1", "2001:db8::1")


def read_mmdb(path: str | Path, label: str = "", *, check: bool = False) -> MmdbDataset:
    """The metadata of an .mmdb file; `HostingDataError` (naming `label`) if it is not one.

    `check`: also that the search tree the metadata declares is all there and
    that lookups through it find readable records (the metadata alone sits at
    the end of the file, so a file cut short can still have it).
    """
    import maxminddb

    name = label or Path(path).name
    try:
        with maxminddb.open_database(str(path), maxminddb.MODE_FILE) as reader:
            meta = reader.metadata()
            built = datetime.fromtimestamp(meta.build_epoch, tz=UTC).date().isoformat()
            if check:
                if os.path.getsize(path) < meta.search_tree_size + 16:
                    raise HostingDataError(f"{name}: cut short (its search tree is not all there)")
                for address in _PROBES + (_PROBES_V6 if meta.ip_version == 6 else ()):
                    reader.get(address)
    except HostingDataError:
        raise
    # maxminddb's InvalidDatabaseError is a RuntimeError; a damaged file can raise others.
    except (OSError, ValueError, RuntimeError, OverflowError, KeyError, TypeError) as exc:
        raise HostingDataError(f"{name}: not a MaxMind DB file ({exc})") from None
    return MmdbDataset(str(meta.database_type), built)


def update_mmdb(
    kind: str, label: str, data: bytes, *, directory: Path | None = None
) -> MmdbDataset:
    """Check `data` as an .mmdb of `kind` ("geo", "asn") and install it, all or nothing.

    1. Write it to a temporary file next to the installed one.
    2. Open that file with the reader the trace uses; its database_type must
       be of the kind asked ("GeoLite2-ASN" is no country database).
    3. Rename it over the installed one; on any failure, remove it.
    """
    if kind not in MMDB_FILES:
        raise HostingDataError(f"unknown kind {kind!r}")
    target = (directory or data_dir()) / MMDB_FILES[kind]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        dataset = read_mmdb(tmp, label, check=True)
        if not _KIND_TYPES[kind].search(dataset.database_type):
            raise HostingDataError(
                f"{label}: its type is {dataset.database_type!r}, not {_KIND_NAMES[kind]}"
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dataset


def mmdb_paths(
    country_setting: str, asn_setting: str, directory: Path | None = None
) -> tuple[str, str]:
    """The country and ASN .mmdb the trace uses: the settings' if set, else the loaded ones."""
    base = directory or data_dir()
    loaded = {kind: base / name for kind, name in MMDB_FILES.items()}
    return (
        country_setting or (str(loaded["geo"]) if loaded["geo"].is_file() else ""),
        asn_setting or (str(loaded["asn"]) if loaded["asn"].is_file() else ""),
    )


def geo_database_for(
    country_setting: str, asn_setting: str, directory: Path | None = None
) -> GeoDatabase:
    """The shipped data with the chosen .mmdb files over it (re-opened when one changes)."""
    country, asn = mmdb_paths(country_setting, asn_setting, directory)
    if not (country or asn):
        return ShippedGeo()
    return _mmdb_geo(country, asn, _mtime(country), _mtime(asn))


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns if path else 0
    except FileNotFoundError:
        return 0


@lru_cache(maxsize=2)
def _mmdb_geo(country: str, asn: str, _country_mtime: int, _asn_mtime: int) -> GeoDatabase:
    return MmdbGeo(country, asn, ShippedGeo())


@lru_cache(maxsize=1)
def shipped_geo_date() -> str:
    """The date of the data inside `geoip2fast`, read from its file's header.

    Loading the data takes 0.3 s and ~100 MB (ShippedGeo): too much for a
    status page or /readyz. Its description ("…-20240618") is the second
    string of the pickle, so the opcodes are read up to it only.
    """
    import geoip2fast

    path = Path(geoip2fast.__file__).parent / ShippedGeo.DATA_FILE
    try:
        with gzip.open(path, "rb") as fh:
            for index, (_, arg, _) in enumerate(pickletools.genops(cast(IO[bytes], fh))):
                if isinstance(arg, str) and (match := re.search(r"(\d{4})(\d{2})(\d{2})$", arg)):
                    return f"{match[1]}-{match[2]}-{match[3]}"
                if index > 50:
                    break
    except (OSError, ValueError, EOFError):
        pass
    return ""
