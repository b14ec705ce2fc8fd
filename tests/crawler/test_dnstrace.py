"""DNS through dnspython against a DNS server the test runs on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from openhotline.crawler.dnstrace import address_resolver, make_resolver, trace_dns
from tests.support.dnsserver import DnsServer, Records


@pytest.fixture
def dns_records() -> Records:
    return {
        "www.site.test": [("CNAME", "cdn.site.test")],
        "cdn.site.test": [("CNAME", "edge.provider.test")],
        "edge.provider.test": [("A", "127.0.0.1"), ("A", "127.0.0.3"), ("AAAA", "::1")],
        "v4only.test": [("A", "127.0.0.1")],
    }


def test_it_follows_the_cname_chain_and_collects_a_and_aaaa(dns: DnsServer) -> None:
    trace = trace_dns("WWW.site.test.", make_resolver([(dns.host, dns.port)], 2.0))
    assert trace.host == "www.site.test"
    assert trace.cname_chain == ["cdn.site.test", "edge.provider.test"]
    assert trace.canonical_name == "edge.provider.test"
    # A before AAAA; inside an RRset DNS keeps no order.
    assert sorted(trace.addresses[:2]) == ["127.0.0.1", "127.0.0.3"] and trace.addresses[2] == "::1"
    assert trace.errors == []
    assert ("www.site.test", "A") in dns.queries and ("www.site.test", "AAAA") in dns.queries


def test_a_name_without_aaaa_gives_its_a_records(dns: DnsServer) -> None:
    trace = trace_dns("v4only.test", make_resolver([(dns.host, dns.port)], 2.0))
    assert trace.addresses == ["127.0.0.1"] and trace.cname_chain == [] and trace.errors == []


def test_nxdomain_is_recorded_and_stops_the_lookup(dns: DnsServer) -> None:
    trace = trace_dns("missing.test", make_resolver([(dns.host, dns.port)], 2.0))
    assert trace.addresses == []
    assert trace.errors == ["missing.test: no such domain (NXDOMAIN)"]
    assert dns.queries == [("missing.test", "A")]


def test_an_ip_literal_needs_no_lookup(dns: DnsServer) -> None:
    trace = trace_dns("127.0.0.1", make_resolver([(dns.host, dns.port)], 2.0))
    assert trace.addresses == ["127.0.0.1"] and dns.queries == []


def test_a_silent_server_is_a_recorded_timeout() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        trace = trace_dns("x.test", make_resolver([("127.0.0.1", silent.getsockname()[1])], 0.3))
    finally:
        silent.close()
    assert trace.addresses == []
    assert len(trace.errors) == 2 and all(
        "Timeout" in e or "LifetimeTimeout" in e for e in trace.errors
    )


def test_the_fetch_resolver_raises_oserror_for_a_name_without_address(dns: DnsServer) -> None:
    resolve = address_resolver(make_resolver([(dns.host, dns.port)], 2.0))
    assert resolve("v4only.test", 80) == ["127.0.0.1"]
    with pytest.raises(OSError, match="NXDOMAIN"):
        resolve("missing.test", 80)


def test_a_machine_without_resolver_configuration_records_the_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dns.resolver

    real = dns.resolver.Resolver.__init__

    def unconfigured(
        self: dns.resolver.Resolver, filename: str = "", configure: bool = True
    ) -> None:
        if configure:
            raise dns.resolver.NoResolverConfiguration("no /etc/resolv.conf")
        real(self, configure=False)

    monkeypatch.setattr(dns.resolver.Resolver, "__init__", unconfigured)
    trace = trace_dns("site.test", make_resolver([], 0.5))
    assert trace.addresses == [] and len(trace.errors) == 2
