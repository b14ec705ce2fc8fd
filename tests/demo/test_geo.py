"""The demo's geo file: its loopback addresses in their countries, and nothing else."""

from __future__ import annotations

from pathlib import Path

import maxminddb

from openhotline.crawler.geo import MmdbGeo, ShippedGeo
from openhotline.demo.hosts import GEO_FILE, HOSTS, build_geo_file


def countries(path: Path) -> dict[str, str | None]:
    with maxminddb.open_database(str(path)) as db:
        found: dict[str, str | None] = {}
        for address in [h.address for h in HOSTS] + ["127.0.0.3", "10.0.0.1", "192.0.2.1"]:
            record = db.get(address)
            country = record.get("country") if isinstance(record, dict) else None
            found[address] = str(country["iso_code"]) if isinstance(country, dict) else None
        return found


def test_the_shipped_file_is_the_one_the_host_table_builds(tmp_path: Path) -> None:
    build_geo_file(tmp_path / "rebuilt.mmdb")
    assert countries(GEO_FILE) == countries(tmp_path / "rebuilt.mmdb")
    assert countries(GEO_FILE) == {
        "127.0.0.1": "DK",
        "127.0.0.2": "US",
        "127.0.0.3": None,
        "10.0.0.1": None,
        "192.0.2.1": None,
    }


def test_the_crawlers_geo_lookup_places_the_demo_hosts() -> None:
    geo = MmdbGeo(str(GEO_FILE), "", ShippedGeo())
    assert {h.address: geo.lookup(h.address).country for h in HOSTS} == {
        "127.0.0.1": "DK",
        "127.0.0.2": "US",
    }
    assert geo.lookup("127.0.0.9").country == ""
