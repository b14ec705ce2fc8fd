"""Hosting data loaded from the operator's files: CDN ranges, the IP-to-AS table, their dates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation, User
from openhotline.crawler.geo import ShippedGeo
from openhotline.crawler.geofiles import shipped_geo_date
from openhotline.crawler.hosting import trace_host
from openhotline.crawler.hostingdata import (
    PROVIDERS,
    current_geo,
    current_providers,
    dataset_status,
)
from openhotline.crawler.hostingstatus import every_dataset
from openhotline.crawler.policy import hosting_services
from openhotline.crawler.rdap import MemoryRdapCache
from tests.crawler.conftest import write_mmdb

ROOT = Path(__file__).resolve().parents[2]

# Published formats, as the providers serve them (shortened), with documentation ranges.
AWS = {
    "syncToken": "1733350000",
    "createDate": "2026-11-30-22-13-07",
    "prefixes": [
        {"ip_prefix": "192.0.2.0/25", "region": "us-east-1", "service": "AMAZON"},
        {"ip_prefix": "192.0.2.128/25", "region": "GLOBAL", "service": "CLOUDFRONT"},
    ],
    "ipv6_prefixes": [
        {"ipv6_prefix": "2001:db8:cf::/48", "region": "GLOBAL", "service": "CLOUDFRONT"},
        {"ipv6_prefix": "2001:db8:aa::/48", "region": "eu-west-1", "service": "EC2"},
    ],
}
FASTLY = {"addresses": ["198.51.100.0/25"], "ipv6_addresses": ["2001:db8:f::/48"]}
GOOGLE = {
    "syncToken": "1",
    "creationTime": "2026-11-20T13:00:00.000000",
    "prefixes": [{"ipv4Prefix": "203.0.113.0/26"}, {"ipv6Prefix": "2001:db8:9::/48"}],
}
IMPERVA = {"ipRanges": ["203.0.113.64/26"], "ipv6Ranges": ["2001:db8:1::/48"], "res": 0}
COUNTRY_SE: dict[str, object] = {"country": {"iso_code": "SE"}}
COUNTRY_NO: dict[str, object] = {"country": {"iso_code": "NO"}}
ASN_TSV = (
    "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"
    "1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n"
    "193.0.0.0\t193.0.23.255\t3333\tNL\tRIPE-NCC-AS Reseaux IP Europeens\n"
    "2001:67c:2e8::\t2001:67c:2e8:ffff:ffff:ffff:ffff:ffff\t3333\tNL\tRIPE-NCC-AS\n"
)


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path: Path, settings: SettingsWrapper) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return tmp_path / "data" / "hosting-data"


def _file(tmp_path: Path, name: str, content: str | dict) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def _providers() -> dict[str, object]:
    return {p.name: p for p in current_providers()}


def test_each_published_format_loads_and_replaces_the_built_in_list(tmp_path: Path) -> None:
    call_command(
        "crawler", "data", "update", "cdn", "cloudfront", _file(tmp_path, "ip-ranges.json", AWS)
    )
    call_command(
        "crawler", "data", "update", "cdn", "fastly", _file(tmp_path, "fastly.json", FASTLY)
    )
    call_command("crawler", "data", "update", "cdn", "google", _file(tmp_path, "goog.json", GOOGLE))
    call_command(
        "crawler", "data", "update", "cdn", "imperva", _file(tmp_path, "ips.json", IMPERVA)
    )
    v4 = _file(tmp_path, "ips-v4", "192.0.2.0/24\n# comment\n\n")
    v6 = _file(tmp_path, "ips-v6", "2001:db8:c::/48\n")
    call_command("crawler", "data", "update", "cdn", "cloudflare", v4, v6)

    providers = {p.name: p for p in current_providers()}
    cloudfront = providers["Amazon CloudFront"]
    # Only the CLOUDFRONT service's prefixes, dated by the file's createDate.
    assert [str(n) for n in cloudfront.networks] == ["192.0.2.128/25", "2001:db8:cf::/48"]
    assert (cloudfront.as_of, cloudfront.origin) == ("2026-11-30", "loaded")
    assert providers["Google"].as_of == "2026-11-20"
    assert [str(n) for n in providers["Google"].networks] == ["203.0.113.0/26", "2001:db8:9::/48"]
    today = datetime.now(tz=UTC).date().isoformat()
    # Fastly's and Cloudflare's lists carry no date: the time of loading is theirs.
    assert providers["Fastly"].as_of == today
    assert [str(n) for n in providers["Fastly"].networks] == ["198.51.100.0/25", "2001:db8:f::/48"]
    assert [str(n) for n in providers["Cloudflare"].networks] == ["192.0.2.0/24", "2001:db8:c::/48"]
    assert [str(n) for n in providers["Imperva (Incapsula)"].networks] == [
        "203.0.113.64/26",
        "2001:db8:1::/48",
    ]
    # Nothing loaded for Akamai: its built-in list stays, marked as such.
    assert (providers["Akamai"].origin, providers["Akamai"].as_of) == ("built-in", "2024-01-01")


@pytest.mark.parametrize(
    ("provider", "content", "message"),
    [
        (
            "cloudflare",
            "192.0.2.0/24\nnot-a-network\n",
            "line 2: 'not-a-network' is not an IP network",
        ),
        ("cloudfront", {"prefixes": "x"}, "'prefixes' is not a list"),
        ("cloudfront", FASTLY, "not AWS's ip-ranges.json"),
        ("fastly", "<html>", "not JSON"),
        ("fastly", {"addresses": ["192.0.2.0/24", "300.1.1.1/8"]}, "addresses[1]"),
        ("cloudfront", {**AWS, "createDate": "yesterday"}, "is not a date"),
        ("cloudflare", "# nothing\n", "no Cloudflare networks"),
    ],
)
def test_bad_input_is_one_line_and_leaves_the_loaded_data_alone(
    tmp_path: Path, own_data_dir: Path, provider: str, content: str | dict, message: str
) -> None:
    good = {
        "cloudflare": _file(tmp_path, "good-cf", "192.0.2.0/24\n"),
        "cloudfront": _file(tmp_path, "good-aws", AWS),
        "fastly": _file(tmp_path, "good-fastly", FASTLY),
    }[provider]
    call_command("crawler", "data", "update", "cdn", provider, good)
    before = (own_data_dir / "cdn" / f"{provider}.txt").read_bytes()

    with pytest.raises(CommandError) as raised:
        call_command("crawler", "data", "update", "cdn", provider, _file(tmp_path, "bad", content))

    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith("nothing loaded: ")
    assert (own_data_dir / "cdn" / f"{provider}.txt").read_bytes() == before
    assert sorted(p.name for p in (own_data_dir / "cdn").iterdir()) == [f"{provider}.txt"]


def test_the_trace_uses_loaded_ranges_and_says_when_it_falls_back_to_built_in(
    tmp_path: Path,
) -> None:
    call_command("crawler", "data", "update", "cdn", "cloudfront", _file(tmp_path, "a.json", AWS))

    loaded = trace_host("192.0.2.200", geo=ShippedGeo(), cdn_providers=current_providers())
    assert (loaded.cdn, loaded.cdn_ranges_as_of) == ("Amazon CloudFront", "2026-11-30")
    assert loaded.cdn_ranges_origin == "loaded"
    assert "built-in" not in " ".join(loaded.notes)
    # The AMAZON (not CloudFront) prefix is no CDN.
    assert trace_host("192.0.2.1", geo=ShippedGeo(), cdn_providers=current_providers()).cdn == ""

    # Fastly has no loaded list: its built-in one answers, marked and dated.
    fallback = trace_host("151.101.1.1", geo=ShippedGeo(), cdn_providers=current_providers())
    assert (fallback.cdn, fallback.cdn_ranges_origin) == ("Fastly", "built-in")
    assert "as of 2024-01-01, built-in list" in " ".join(fallback.notes)

    # What the crawl task and the CLI put together uses the loaded data too.
    services = hosting_services(MemoryRdapCache())
    assert {p.name: p.origin for p in services.cdn}["Amazon CloudFront"] == "loaded"


def test_the_as_table_gives_the_trace_as_numbers(tmp_path: Path) -> None:
    assert current_geo(ShippedGeo()).lookup("193.0.6.139").asn is None  # nothing loaded yet

    call_command(
        "crawler", "data", "update", "asn", _file(tmp_path, "ip2asn-combined.tsv", ASN_TSV)
    )
    geo = current_geo(ShippedGeo())

    ripe = geo.lookup("193.0.6.139")
    assert (ripe.asn, ripe.as_name, ripe.network) == (
        3333,
        "RIPE-NCC-AS Reseaux IP Europeens",
        "193.0.0.0/20",
    )
    assert ripe.country == "NL"  # still from the geo database
    assert "AS table of" in ripe.source and "iptoasn.com" in ripe.source
    v6 = geo.lookup("2001:67c:2e8:22::c100:68b")
    assert (v6.asn, v6.network) == (3333, "2001:67c:2e8::/48")
    # AS 0 is unannounced space: no AS number is made up.
    assert geo.lookup("1.0.2.1").asn is None
    trace = trace_host("193.0.6.139", geo=geo, cdn_providers=current_providers())
    assert trace.ip is not None and trace.ip.asn == 3333


def test_a_bad_as_table_is_refused_whole(tmp_path: Path, own_data_dir: Path) -> None:
    call_command("crawler", "data", "update", "asn", _file(tmp_path, "good.tsv", ASN_TSV))
    before = (own_data_dir / "asn.tsv").read_bytes()
    broken = ASN_TSV + "1.0.4.0\t1.0.3.0\t7\tUS\tBACKWARDS\n"

    with pytest.raises(CommandError, match=r"line 5: 1\.0\.4\.0-1\.0\.3\.0 is not a range"):
        call_command("crawler", "data", "update", "asn", _file(tmp_path, "bad.tsv", broken))
    with pytest.raises(CommandError, match="expected 5 tab-separated fields"):
        call_command("crawler", "data", "update", "asn", _file(tmp_path, "v4", "192.0.2.0/24\n"))

    assert (own_data_dir / "asn.tsv").read_bytes() == before
    assert sorted(p.name for p in own_data_dir.iterdir()) == ["asn.tsv"]


def test_the_command_reads_stdin_and_exits_non_zero_on_bad_input(tmp_path: Path) -> None:
    env = {**os.environ, "OPENHOTLINE_DATA": str(tmp_path / "cli")}
    command = [sys.executable, "-m", "openhotline", "crawler", "data"]
    loaded = subprocess.run(
        [*command, "update", "asn", "-"],
        input=ASN_TSV,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "IP-to-AS table: 4 ranges" in loaded.stdout

    bad = subprocess.run(
        [*command, "update", "cdn", "fastly", "-"],
        input="{",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0
    assert bad.stderr.strip().count("\n") == 0 and "nothing loaded: stdin: not JSON" in bad.stderr

    shown = subprocess.run(
        [*command, "show", "--json"], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    status = {item["name"]: item for item in json.loads(shown.stdout)}
    assert status["IP-to-AS table"]["origin"] == "loaded"
    assert status["CDN ranges: Fastly"]["origin"] == "built-in"


def test_status_marks_data_older_than_90_days(tmp_path: Path, own_data_dir: Path) -> None:
    published: dict[str, str | dict] = {
        "cloudflare": "192.0.2.0/24\n",
        "akamai": "192.0.2.0/24\n",
        "cloudfront": {**AWS, "createDate": datetime.now(tz=UTC).strftime("%Y-%m-%d-%H-%M-%S")},
        "fastly": FASTLY,
        "imperva": IMPERVA,
        "google": {"prefixes": GOOGLE["prefixes"]},
    }
    assert set(published) == set(PROVIDERS)
    for key, content in published.items():
        call_command("crawler", "data", "update", "cdn", key, _file(tmp_path, key, content))
    call_command("crawler", "data", "update", "asn", _file(tmp_path, "t.tsv", ASN_TSV))
    assert not [s for s in dataset_status() if s.stale]

    old = (datetime.now(tz=UTC).date() - timedelta(days=91)).isoformat()
    path = own_data_dir / "cdn" / "fastly.txt"
    text = path.read_text()
    path.write_text(
        text.replace(f"# as-of: {datetime.now(tz=UTC).date().isoformat()}", f"# as-of: {old}")
    )

    stale = [s for s in dataset_status() if s.stale]
    assert [(s.name, s.as_of, s.age_days) for s in stale] == [("CDN ranges: Fastly", old, 91)]


@pytest.mark.django_db
def test_the_admin_page_shows_each_data_sets_date(
    tmp_path: Path, admin: User, outsider: User, hotline_a: Organisation, as_user: Any
) -> None:
    call_command("crawler", "data", "update", "cdn", "cloudfront", _file(tmp_path, "a.json", AWS))
    page = f"/app/crawler/{hotline_a.slug}/rules/"

    html = as_user(admin).get(page).content.decode()

    section = html[html.index('id="hosting-data"') :]
    assert "<td>CDN ranges: Amazon CloudFront</td><td>loaded</td><td>2026-11-30</td>" in section
    assert "<td>CDN ranges: Fastly</td><td>built-in</td><td>2024-01-01 <strong>" in section
    assert "days old: refresh it" in section
    assert "<td>IP-to-AS table</td><td>not loaded</td>" in section
    assert as_user(outsider).get(page).status_code == 404


# --- the geo and AS databases as .mmdb files ------------------------------------------


def _mmdb(tmp_path: Path, name: str, kind: str, networks: dict[str, dict[str, object]]) -> str:
    return write_mmdb(tmp_path / name, kind, networks)


def test_loaded_mmdb_files_give_the_trace_its_country_and_as_number(
    tmp_path: Path, own_data_dir: Path, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_GEOIP_MMDB = settings.OPENHOTLINE_GEOIP_ASN_MMDB = ""
    country = _mmdb(
        tmp_path, "GeoLite2-Country.mmdb", "GeoLite2-Country", {"192.0.2.0/24": COUNTRY_SE}
    )
    asn = _mmdb(
        tmp_path,
        "GeoLite2-ASN.mmdb",
        "GeoLite2-ASN",
        {
            "192.0.2.0/24": {
                "autonomous_system_number": 64500,
                "autonomous_system_organization": "EX",
            }
        },
    )
    before = hosting_services(MemoryRdapCache()).geo.lookup("192.0.2.7")
    assert (before.country, before.asn) == ("", None)

    call_command("crawler", "data", "update", "geo", country)
    call_command("crawler", "data", "update", "asn", asn)  # an .mmdb, told apart from a TSV

    assert sorted(p.name for p in own_data_dir.iterdir()) == ["asn.mmdb", "country.mmdb"]
    info = hosting_services(MemoryRdapCache()).geo.lookup("192.0.2.7")
    built = datetime.now(tz=UTC).date().isoformat()
    assert (info.country, info.asn, info.as_name) == ("SE", 64500, "EX")
    assert f"GeoLite2-Country, built {built}" in info.source
    status = {s.name: s for s in every_dataset()}
    geo = status["Geo database (country, AS names)"]
    assert (geo.origin, geo.as_of, geo.stale) == ("loaded", built, False)
    assert geo.source == f"country.mmdb: GeoLite2-Country, built {built}"
    assert (status["AS database (.mmdb)"].origin, status["AS database (.mmdb)"].as_of) == (
        "loaded",
        built,
    )

    # A newer file replaces the loaded one; workers see it without a restart.
    newer = _mmdb(tmp_path, "newer.mmdb", "DBIP-Country-Lite", {"192.0.2.0/24": COUNTRY_NO})
    call_command("crawler", "data", "update", "geo", newer)
    assert hosting_services(MemoryRdapCache()).geo.lookup("192.0.2.7").country == "NO"

    # The settings still come first, as OPENHOTLINE_CDN_RANGES_DIR does for the ranges.
    settings.OPENHOTLINE_GEOIP_MMDB = country
    assert hosting_services(MemoryRdapCache()).geo.lookup("192.0.2.7").country == "SE"
    assert {s.name: s.origin for s in every_dataset()}[geo.name] == "OPENHOTLINE_GEOIP_MMDB"


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("geo", b"not a database at all", "garbage.mmdb: not a MaxMind DB file"),
        ("geo", "asn", "garbage.mmdb: its type is 'GeoLite2-ASN', not a country or city database"),
        ("asn", "country", "its type is 'GeoLite2-City', not an ASN database"),
        ("geo", "truncated", "garbage.mmdb: not a MaxMind DB file"),
    ],
)
def test_a_bad_mmdb_is_refused_and_the_loaded_one_stays(
    tmp_path: Path, own_data_dir: Path, kind: str, content: bytes | str, message: str
) -> None:
    files = {
        "country": _mmdb(tmp_path, "c.mmdb", "GeoLite2-City", {"192.0.2.0/24": COUNTRY_SE}),
        "asn": _mmdb(
            tmp_path, "a.mmdb", "GeoLite2-ASN", {"192.0.2.0/24": {"autonomous_system_number": 1}}
        ),
    }
    good = files["country" if kind == "geo" else "asn"]
    call_command("crawler", "data", "update", kind, good)
    installed = own_data_dir / ("country.mmdb" if kind == "geo" else "asn.mmdb")
    before = installed.read_bytes()
    if content == "truncated":
        data = Path(files["country"]).read_bytes()
        content = data[: len(data) // 2] + data[-200:]  # the metadata survives, the tree not
    elif isinstance(content, str):
        content = Path(files[content]).read_bytes()
    bad = tmp_path / "garbage.mmdb"
    bad.write_bytes(content)

    with pytest.raises(CommandError) as raised:
        call_command("crawler", "data", "update", kind, str(bad))

    assert message in str(raised.value) and str(raised.value).startswith("nothing loaded: ")
    assert installed.read_bytes() == before
    assert sorted(p.name for p in own_data_dir.iterdir()) == [installed.name]


def test_status_dates_the_shipped_geo_data_without_loading_it(settings: SettingsWrapper) -> None:
    settings.OPENHOTLINE_GEOIP_MMDB = settings.OPENHOTLINE_GEOIP_ASN_MMDB = ""
    shipped_geo_date.cache_clear()

    geo = every_dataset()[0]

    assert (geo.name, geo.origin) == ("Geo database (country, AS names)", "built-in")
    # The same date the loaded data reports (and the trace records).
    assert ShippedGeo().source.endswith(f", data of {geo.as_of}")
    assert geo.stale == (geo.age_days is not None and geo.age_days > 90)
    assert {s.name: s.origin for s in every_dataset()}["AS database (.mmdb)"] == "not loaded"


def test_an_unreadable_mmdb_setting_is_shown_not_raised(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_GEOIP_ASN_MMDB = str(tmp_path / "missing.mmdb")

    asn = {s.name: s for s in every_dataset()}["AS database (.mmdb)"]

    assert (asn.origin, asn.as_of, asn.stale) == ("OPENHOTLINE_GEOIP_ASN_MMDB", "", True)
    assert asn.source.startswith("unreadable: missing.mmdb: not a MaxMind DB file")


@pytest.mark.django_db
def test_the_admin_home_warns_of_old_data_sets_only(
    tmp_path: Path,
    settings: SettingsWrapper,
    admin: User,
    analyst: User,
    outsider: User,
    hotline_a: Organisation,
    as_user: Any,
) -> None:
    settings.OPENHOTLINE_GEOIP_MMDB = settings.OPENHOTLINE_GEOIP_ASN_MMDB = ""
    settings.OPENHOTLINE_CDN_RANGES_DIR = ""
    page = f"/app/admin/{hotline_a.slug}/"
    call_command("crawler", "data", "update", "cdn", "cloudfront", _file(tmp_path, "a.json", AWS))

    html = as_user(admin).get(page).content.decode()

    panel = html[html.index('id="hosting-data-panel"') :]
    panel = panel[: panel.index("</div>")]
    # Four built-in CDN lists (2024-01-01) and the shipped geo data are old; the loaded
    # CloudFront list is not, and the AS sets that are not loaded are not listed.
    assert "5 data sets the hosting trace uses are older than 90 days" in panel
    assert "<li>CDN ranges: Fastly (built-in): 2024-01-01</li>" in panel
    assert "<li>Geo database (country, AS names) (built-in): " in panel
    assert "CloudFront" not in panel and "IP-to-AS" not in panel
    assert f'href="/app/crawler/{hotline_a.slug}/rules/#hosting-data"' in panel
    assert as_user(outsider).get(page).status_code == 404
    assert as_user(analyst).get(page).status_code in (403, 404)
