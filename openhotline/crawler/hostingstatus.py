"""Every data set the hosting trace relies on, with its date: geo, AS, each CDN list.

One list for the three places that show it: the admin home and the domain
rules page, ``/readyz`` (``ops.health.hosting_data``) and ``openhotline
crawler data show``. A set older than STALE_DAYS, or of no known date, is
marked stale; they warn, they do not stop the trace (docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from openhotline.crawler.geofiles import mmdb_paths, read_mmdb, shipped_geo_date
from openhotline.crawler.hostingdata import DatasetStatus, HostingDataError, dataset_status

GEO = "Geo database (country, AS names)"
ASN_MMDB = "AS database (.mmdb)"


def every_dataset(directory: Path | None = None) -> list[DatasetStatus]:
    """The geo and AS databases, then each CDN list and the IP-to-AS table."""
    country_setting = settings.OPENHOTLINE_GEOIP_MMDB
    asn_setting = settings.OPENHOTLINE_GEOIP_ASN_MMDB
    country, asn = mmdb_paths(country_setting, asn_setting, directory)
    result = []
    if country:
        result.append(
            _mmdb_status(GEO, country, "OPENHOTLINE_GEOIP_MMDB" if country_setting else "")
        )
    else:
        result.append(
            DatasetStatus.dated(
                GEO,
                "built-in",
                shipped_geo_date(),
                "MaxMind GeoLite2 data shipped in the geoip2fast package",
            )
        )
    if asn:
        result.append(
            _mmdb_status(ASN_MMDB, asn, "OPENHOTLINE_GEOIP_ASN_MMDB" if asn_setting else "")
        )
    else:
        result.append(DatasetStatus.not_loaded(ASN_MMDB))
    return result + dataset_status(settings.OPENHOTLINE_CDN_RANGES_DIR, directory)


def _mmdb_status(name: str, path: str, setting: str) -> DatasetStatus:
    origin = setting or "loaded"
    try:
        dataset = read_mmdb(path)
    except HostingDataError as exc:  # a file the setting names may be missing or damaged
        return DatasetStatus.dated(name, origin, "", f"unreadable: {exc}")
    return DatasetStatus.dated(name, origin, dataset.built, f"{Path(path).name}: {dataset.source}")
