"""Country, AS and network of an address, from offline data only (no lookup leaves the machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openhotline.crawler.geo import MmdbGeo, ShippedGeo, geo_database
from tests.crawler.conftest import write_mmdb


def test_the_shipped_database_knows_public_addresses_and_its_date() -> None:
    info = ShippedGeo().lookup("193.0.6.139")  # the RIPE NCC's own network, long stable
    assert info.country == "NL"
    assert "RIPE" in info.as_name
    assert info.network == "193.0.0.0/21"
    assert "GeoLite2" in info.source and ", data of 20" in info.source


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.0.2.1", "2001:db8::1"])
def test_internal_and_documentation_addresses_have_no_country(address: str) -> None:
    info = ShippedGeo().lookup(address)
    assert info.country == "" and info.as_name == "" and info.network == ""


def test_operator_mmdb_files_take_precedence_and_add_the_as_number(tmp_path: Path) -> None:
    country = write_mmdb(
        tmp_path / "country.mmdb",
        "GeoLite2-Country",
        {"193.0.0.0/16": {"country": {"iso_code": "SE"}}},
    )
    asn = write_mmdb(
        tmp_path / "asn.mmdb",
        "GeoLite2-ASN",
        {
            "193.0.4.0/22": {
                "autonomous_system_number": 3333,
                "autonomous_system_organization": "Test Network",
            }
        },
    )
    geo = MmdbGeo(country, asn, ShippedGeo())
    info = geo.lookup("193.0.6.139")
    assert (info.country, info.asn, info.as_name, info.network) == (
        "SE",
        3333,
        "Test Network",
        "193.0.4.0/22",
    )
    assert "GeoLite2-Country, built" in info.source and "GeoLite2-ASN, built" in info.source


def test_what_an_mmdb_lacks_comes_from_the_shipped_data(tmp_path: Path) -> None:
    asn = write_mmdb(
        tmp_path / "asn.mmdb",
        "DBIP-ASN-Lite",
        {"10.0.0.0/8": {"autonomous_system_number": 1, "autonomous_system_organization": "x"}},
    )
    info = geo_database("", asn).lookup("193.0.6.139")
    assert info.country == "NL" and info.asn is None
