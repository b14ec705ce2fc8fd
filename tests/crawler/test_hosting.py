"""The hosting trace: DNS from a loopback DNS server, offline IP data, CDN ranges, loopback RDAP.

The DNS answers name public addresses, but nothing connects to them: the
trace only looks them up in offline data, and RDAP goes to the loopback server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openhotline.crawler.cdn import load_providers
from openhotline.crawler.dnstrace import make_resolver
from openhotline.crawler.geo import ShippedGeo
from openhotline.crawler.hosting import HostingTrace, Overrides, registered_domain, trace_host
from openhotline.crawler.rdap import MemoryRdapCache, RdapClient
from openhotline.lib.netcheck import parse_allow_list
from openhotline.lib.safehttp import FetchPolicy, SafeFetcher
from tests.support.dnsserver import DnsServer, Records
from tests.support.loopback import LoopbackServer


@pytest.fixture
def dns_records() -> Records:
    return {
        "www.site.test": [("CNAME", "origin.site.test")],
        "origin.site.test": [("A", "193.0.6.139")],
        "cdn.site.test": [("A", "104.16.132.229"), ("AAAA", "2606:4700::6810:84e5")],
    }


@pytest.fixture
def rdap_client(rdap: LoopbackServer) -> Iterator[RdapClient]:
    with SafeFetcher(FetchPolicy(allow=parse_allow_list("127.0.0.1"), deadline=3.0)) as fetcher:
        yield RdapClient(fetcher, rdap.url("/bootstrap/"), MemoryRdapCache())


def trace(host: str, dns: DnsServer, rdap: RdapClient | None, **kw: object) -> HostingTrace:
    return trace_host(
        host,
        geo=ShippedGeo(),
        cdn_providers=load_providers(),
        resolver=make_resolver([(dns.host, dns.port)], 2.0),
        rdap=rdap,
        **kw,  # type: ignore[arg-type]
    )


def test_a_directly_hosted_site_gets_country_network_hoster_and_registrar(
    dns: DnsServer, rdap_client: RdapClient
) -> None:
    found = trace("www.site.test", dns, rdap_client)
    assert found.domain == "site.test"
    assert found.cname_chain == ["origin.site.test"]
    assert (found.address, found.address_source) == ("193.0.6.139", "dns")
    assert (found.country, found.country_known, found.cdn) == ("NL", True, "")
    assert (
        found.ip is not None and found.ip.network == "193.0.0.0/21" and "RIPE" in found.ip.as_name
    )
    assert (found.hoster, found.hoster_abuse) == (
        "RIPE Network Coordination Centre",
        "abuse@ripe.test",
    )
    assert (found.notice_to, found.notice_via) == ("abuse@ripe.test", "hoster")
    assert (found.registrar, found.registrar_abuse) == (
        "Test Registrar A/S",
        "abuse@registrar.test",
    )
    assert found.errors == []
    assert "data of 20" in found.ip.source


def test_behind_a_cdn_the_country_is_unknown_and_the_notice_goes_to_the_cdn(
    dns: DnsServer, rdap_client: RdapClient
) -> None:
    found = trace("cdn.site.test", dns, rdap_client)
    assert found.addresses == ["104.16.132.229", "2606:4700::6810:84e5"]
    assert found.cdn == "Cloudflare" and found.cdn_ranges_as_of
    assert (found.country, found.country_known) == ("", False)
    assert found.ip is not None and found.ip.country  # the edge's own country, kept apart
    assert found.notice_via == "cdn" and found.notice_to.startswith("abuse@cloudflare.com")
    assert any("real hosting country is unknown" in note for note in found.notes)


def test_the_connected_address_is_the_one_traced(dns: DnsServer) -> None:
    found = trace("www.site.test", dns, None, connected_address="104.16.0.1")
    assert (found.address, found.address_source, found.cdn) == (
        "104.16.0.1",
        "connected",
        "Cloudflare",
    )
    assert any("which DNS no longer returns" in note for note in found.notes)


def test_a_name_that_does_not_resolve_is_traced_as_far_as_possible(dns: DnsServer) -> None:
    found = trace("nowhere.site.test", dns, None)
    assert found.addresses == [] and found.address == "" and not found.country_known
    assert found.errors == ["nowhere.site.test: no such domain (NXDOMAIN)"]
    assert any("hosting country is unknown" in note for note in found.notes)


def test_an_rdap_failure_is_recorded_and_the_rest_is_kept(
    dns: DnsServer, rdap: LoopbackServer, rdap_client: RdapClient
) -> None:
    rdap.routes["/rdap/ip/*"] = lambda h: h.send_error(503)
    found = trace("www.site.test", dns, rdap_client)
    assert found.country == "NL" and found.registrar == "Test Registrar A/S"
    assert found.hoster == found.ip.as_name  # type: ignore[union-attr]
    assert any("RDAP for 193.0.6.139" in e and "503" in e for e in found.errors)


def test_domain_rule_overrides_force_hoster_registrar_and_add_the_site_owner(
    dns: DnsServer, rdap_client: RdapClient
) -> None:
    rule = Overrides(
        hoster="legal@host.test", registrar="Other Registrar", site_owner="owner@site.test"
    )
    found = trace("www.site.test", dns, rdap_client, overrides=rule)
    assert (found.hoster, found.notice_to, found.notice_via) == (
        "legal@host.test",
        "legal@host.test",
        "domain rule",
    )
    assert found.registrar == "Other Registrar" and found.site_owner == "owner@site.test"


def test_registered_domains_ignore_private_suffixes() -> None:
    assert registered_domain("a.b.someone.blogspot.com") == "blogspot.com"
    assert registered_domain("x.example.co.uk") == "example.co.uk"
    assert registered_domain("127.0.0.1") == ""
