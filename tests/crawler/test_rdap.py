"""RDAP lookups against an RDAP server (bootstrap files included) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from openhotline.crawler.models import RdapCacheEntry
from openhotline.crawler.rdap import MemoryRdapCache, RdapClient, RdapError
from openhotline.crawler.rdapcache import DbRdapCache
from openhotline.lib.netcheck import parse_allow_list
from openhotline.lib.safehttp import FetchPolicy, SafeFetcher
from tests.support.loopback import LoopbackServer, reply


@pytest.fixture
def fetcher() -> Iterator[SafeFetcher]:
    with SafeFetcher(FetchPolicy(allow=parse_allow_list("127.0.0.1"), deadline=3.0)) as f:
        yield f


def client(rdap: LoopbackServer, fetcher: SafeFetcher, cache: object = None) -> RdapClient:
    return RdapClient(fetcher, rdap.url("/bootstrap/"), cache or MemoryRdapCache())  # type: ignore[arg-type]


def test_it_finds_the_network_holder_and_a_nested_abuse_contact(
    rdap: LoopbackServer, fetcher: SafeFetcher
) -> None:
    found = client(rdap, fetcher).ip("127.0.0.1")
    assert found is not None
    assert found.holder == "Loopback Hosting ApS"
    assert found.abuse_email == "abuse@hoster.test"
    assert (found.network_name, found.country, found.cidrs) == (
        "LOOPBACK-HOSTING",
        "DK",
        ["127.0.0.0/8"],
    )
    assert found.source == rdap.url("/rdap/ip/127.0.0.1")


def test_it_finds_the_registrar_of_a_domain(rdap: LoopbackServer, fetcher: SafeFetcher) -> None:
    found = client(rdap, fetcher).domain("site.test")
    assert found is not None
    assert (found.registrar, found.registrar_iana_id, found.registrar_abuse_email) == (
        "Test Registrar A/S",
        "9999",
        "abuse@registrar.test",
    )


def test_unknown_records_and_unserved_ranges_are_none(
    rdap: LoopbackServer, fetcher: SafeFetcher
) -> None:
    lookup = client(rdap, fetcher)
    assert lookup.domain("unregistered.test") is None
    assert lookup.domain("example.invalid") is None  # no registry in the bootstrap file
    assert lookup.ip("10.0.0.1") is None
    assert not any(path.startswith("/rdap/ip/10.") for path, _ in rdap.requests)


def test_answers_and_bootstrap_files_are_cached(rdap: LoopbackServer, fetcher: SafeFetcher) -> None:
    cache = MemoryRdapCache()
    client(rdap, fetcher, cache).ip("127.0.0.1")
    asked = len(rdap.requests)
    again = client(rdap, fetcher, cache).ip("127.0.0.1")
    assert again is not None and again.abuse_email == "abuse@hoster.test"
    assert len(rdap.requests) == asked == 2  # the bootstrap file and the answer, once


@pytest.mark.django_db
def test_the_database_cache_is_shared_and_expires(
    rdap: LoopbackServer, fetcher: SafeFetcher
) -> None:
    client(rdap, fetcher, DbRdapCache()).domain("site.test")
    asked = len(rdap.requests)
    client(rdap, fetcher, DbRdapCache()).domain("site.test")
    assert len(rdap.requests) == asked
    RdapCacheEntry.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client(rdap, fetcher, DbRdapCache()).domain("site.test")
    assert len(rdap.requests) == asked * 2
    RdapCacheEntry.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert DbRdapCache.purge_expired() == 2 and not RdapCacheEntry.objects.exists()


def test_a_failing_registry_is_an_rdap_error(rdap: LoopbackServer, fetcher: SafeFetcher) -> None:
    rdap.routes["/rdap/domain/*"] = lambda h: reply(
        h, b"oops", status=500, content_type="text/plain"
    )
    with pytest.raises(RdapError, match="HTTP 500"):
        client(rdap, fetcher).domain("site.test")
    rdap.routes["/rdap/domain/*"] = lambda h: reply(h, b"<html>", content_type="text/html")
    with pytest.raises(RdapError, match="not JSON"):
        client(rdap, fetcher).domain("site.test")


def test_rdap_requests_are_address_checked_like_every_fetch(fetcher: SafeFetcher) -> None:
    lookup = RdapClient(fetcher, "http://127.0.0.2:9/bootstrap/", MemoryRdapCache())
    with pytest.raises(RdapError, match="loopback"):
        lookup.ip("193.0.6.139")
