from __future__ import annotations

import csv
import io
import json
import re

import dns.zone
import pytest
from django.core.management import call_command

from openhotline.accounts.models import Organisation
from openhotline.blocking.exportfiles import ensure_export, write_version
from openhotline.blocking.exports import DNS_NOTE, ExportError, ExportOptions
from openhotline.blocking.models import Publication

pytestmark = pytest.mark.django_db

URLS = ["http://www.bad.test/a", "http://www.bad.test/b", "http://x.test/p?a=1,2"]
DOMAINS = ["whole.test"]
HOSTS = ["gallery.shared.test"]


@pytest.fixture
def publication(published) -> Publication:
    outcome = published(urls=URLS, domains=DOMAINS, hosts=HOSTS)
    assert outcome.publication is not None
    return outcome.publication


def export(hotline: Organisation, publication: Publication, fmt: str, action: str = "") -> str:
    out = io.StringIO()
    write_version(fmt, out, hotline, publication, ExportOptions.from_settings(action or None))
    return out.getvalue()


def test_rpz_is_a_zone_with_the_version_as_serial_and_only_whole_names(
    hotline_a: Organisation, publication: Publication
) -> None:
    text = export(hotline_a, publication, "rpz")
    zone = dns.zone.from_text(text, origin="rpz.hotline.test.", relativize=False)
    soa = zone.find_rdataset("rpz.hotline.test.", "SOA")[0]
    assert soa.serial == publication.serial
    names = {str(name) for name in zone.nodes} - {"rpz.hotline.test."}
    # URL entries never widen into their hosts; a domain also covers its subdomains,
    # a whole host its own name only.
    assert names == {
        "gallery.shared.test.rpz.hotline.test.",
        "whole.test.rpz.hotline.test.",
        "*.whole.test.rpz.hotline.test.",
    }
    wildcard = "*.whole.test.rpz.hotline.test."
    assert [str(r) for r in zone.find_rdataset(wildcard, "A")] == ["127.0.0.1"]
    assert [str(r) for r in zone.find_rdataset(wildcard, "AAAA")] == ["::1"]
    assert "; 3 URL-level entries left out: DNS would block each URL's whole host" in text
    assert "; 2 entries blocked whole here" in text


@pytest.mark.parametrize(("action", "target"), [("nxdomain", "."), ("cname", "stop.hotline.test.")])
def test_rpz_actions_by_setting(
    hotline_a: Organisation, publication: Publication, action: str, target: str
) -> None:
    zone = dns.zone.from_text(export(hotline_a, publication, "rpz", action), relativize=False)
    rdataset = zone.find_rdataset("gallery.shared.test.rpz.hotline.test.", "CNAME")
    assert [str(r) for r in rdataset] == [target]
    assert zone.get_node("x.test.rpz.hotline.test.") is None


def test_hosts_unbound_and_dnsmasq_carry_whole_names_only(
    hotline_a: Organisation, publication: Publication
) -> None:
    hosts_text = export(hotline_a, publication, "hosts")
    hosts = [line for line in hosts_text.splitlines() if line[:1] != "#"]
    assert sorted(hosts) == sorted(
        f"{address} {name}"
        for address in ("127.0.0.1", "::1")
        for name in ("gallery.shared.test", "whole.test")
    )
    unbound = export(hotline_a, publication, "unbound")
    assert 'local-zone: "whole.test." redirect' in unbound
    assert 'local-zone: "gallery.shared.test." transparent' in unbound
    assert 'local-data: "whole.test. AAAA ::1"' in unbound
    assert "www.bad.test" not in unbound and "x.test" not in unbound
    assert 'local-zone: "gallery.shared.test." always_nxdomain' in export(
        hotline_a, publication, "unbound", "nxdomain"
    )
    dnsmasq = export(hotline_a, publication, "dnsmasq")
    assert "address=/whole.test/127.0.0.1" in dnsmasq
    # A whole host is one name: host-record=, not address= (which covers names below).
    assert "host-record=gallery.shared.test,127.0.0.1,::1" in dnsmasq
    for text in (hosts_text, unbound, dnsmasq):
        assert "# 3 URL-level entries left out" in text
        assert not any(
            "bad.test" in line or "x.test" in line
            for line in text.splitlines()
            if not line.startswith("#")
        )
    assert "address=/whole.test/" in export(hotline_a, publication, "dnsmasq", "nxdomain")


def test_squid_acl_blocks_exact_urls_hosts_and_domains(
    hotline_a: Organisation, publication: Publication
) -> None:
    text = export(hotline_a, publication, "squid")
    patterns = [re.compile(line) for line in text.splitlines() if line and line[0] != "#"]
    assert len(patterns) == 5

    def blocked(url: str) -> bool:
        return any(p.search(url) for p in patterns)

    # The URLs exactly; not the host's other pages (the mixed host stays reachable).
    assert blocked("http://www.bad.test/a")
    assert blocked("http://x.test/p?a=1,2")
    assert not blocked("http://www.bad.test/")
    assert not blocked("http://www.bad.test/a/more")
    assert not blocked("http://x.test/p?a=1,23")
    assert not blocked("www.bad.test:443")  # an HTTPS tunnel Squid does not decrypt
    # A whole host: any path, scheme, port or tunnel; not its siblings or names below.
    assert blocked("http://gallery.shared.test/any/thing")
    assert blocked("gallery.shared.test:443")
    assert not blocked("http://other.shared.test/")
    assert not blocked("http://sub.gallery.shared.test/")
    assert not blocked("http://gallery.shared.test.evil.test/")
    # A domain: the name and every name below it, not a look-alike.
    assert blocked("http://whole.test/") and blocked("https://a.b.whole.test:8443/x")
    assert blocked("cdn.whole.test:443")
    assert not blocked("http://notwhole.test/")


def test_csv_and_json_keep_every_url_for_proxies(
    hotline_a: Organisation, publication: Publication
) -> None:
    rows = list(csv.DictReader(io.StringIO(export(hotline_a, publication, "csv"))))
    assert sorted(r["value"] for r in rows) == sorted(
        [
            "http://www.bad.test/a",
            "http://www.bad.test/b",
            "http://x.test/p?a=1,2",
            "whole.test",
            "gallery.shared.test",
        ]
    )
    document = json.loads(export(hotline_a, publication, "json"))
    assert document["version"] == publication.serial and document["note"] == DNS_NOTE
    assert {e["value"] for e in document["entries"]} == {r["value"] for r in rows}
    assert document["entry_count"] == 5
    assert {e["kind"] for e in document["entries"]} == {"url", "host", "domain"}


def test_local_data_without_addresses_is_refused(
    hotline_a: Organisation, publication: Publication, settings
) -> None:
    settings.OPENHOTLINE_STOPPAGE_ADDRESSES = []
    with pytest.raises(ExportError, match="OPENHOTLINE_STOPPAGE_ADDRESSES"):
        export(hotline_a, publication, "rpz")
    assert "127.0.0.1" not in export(hotline_a, publication, "hosts", "nxdomain")


def test_export_files_are_built_once_per_version_and_options(
    hotline_a: Organisation, publication: Publication
) -> None:
    options = ExportOptions.from_settings()
    path = ensure_export(hotline_a, publication, "rpz", options)
    path.write_text("; cached\n")
    assert ensure_export(hotline_a, publication, "rpz", options).read_text() == "; cached\n"
    other = ensure_export(hotline_a, publication, "rpz", ExportOptions.from_settings("nxdomain"))
    assert other != path and "CNAME\t." in other.read_text()


def test_cli_export_writes_the_live_version(
    hotline_a: Organisation, publication: Publication, tmp_path
) -> None:
    out = tmp_path / "list.rpz"
    call_command("blocklist", "export", "--format", "rpz", "--out", str(out))
    zone = dns.zone.from_text(out.read_text(), relativize=False)
    assert zone.find_rdataset("rpz.hotline.test.", "SOA")[0].serial == publication.serial
