"""The crawler's limits, resolvers and lookups, put together from the settings.

One place turns ``OPENHOTLINE_CRAWL_*`` and friends into the plain objects
the engine, the renderer and the hosting trace take, so the task and the
CLI crawl exactly alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dns.resolver
from django.conf import settings
from django.utils.module_loading import import_string

from openhotline.accounts.models import Organisation
from openhotline.crawler.cdn import CdnProvider
from openhotline.crawler.dnstrace import address_resolver, make_resolver
from openhotline.crawler.engine import CrawlPolicy
from openhotline.crawler.geo import GeoDatabase
from openhotline.crawler.geofiles import geo_database_for
from openhotline.crawler.hosting import HostingTrace, Overrides, trace_host
from openhotline.crawler.hostingdata import current_geo, current_providers
from openhotline.crawler.models import DomainRule
from openhotline.crawler.rdap import RdapCache, RdapLookup
from openhotline.crawler.rules import site_rules
from openhotline.lib.safehttp import FetchPolicy, SafeFetcher


def dns_resolver() -> dns.resolver.Resolver:
    return make_resolver(settings.OPENHOTLINE_DNS_SERVERS, settings.OPENHOTLINE_DNS_TIMEOUT)


def _fetch_resolver() -> Callable[[str, int], list[str]] | None:
    # With no servers configured, the system's getaddrinfo (which also reads /etc/hosts).
    return address_resolver(dns_resolver()) if settings.OPENHOTLINE_DNS_SERVERS else None


def fetch_policy(*, proxy: str | None = None) -> FetchPolicy:
    """Egress and limits of page and media fetches; a domain rule may set its own proxy."""
    proxy = proxy or settings.OPENHOTLINE_CRAWL_PROXY
    resolves_names = settings.OPENHOTLINE_CRAWL_PROXY_RESOLVES_NAMES or (proxy or "").startswith(
        "socks5h:"
    )
    return FetchPolicy(
        allow=tuple(settings.OPENHOTLINE_FETCH_ALLOW),
        max_bytes=max(
            settings.OPENHOTLINE_CRAWL_PAGE_MAX_BYTES, settings.OPENHOTLINE_CRAWL_MEDIA_MAX_BYTES
        ),
        max_decoded_bytes=settings.OPENHOTLINE_CRAWL_DECODED_MAX_BYTES,
        max_decode_ratio=settings.OPENHOTLINE_CRAWL_MAX_DECODE_RATIO,
        connect_timeout=settings.OPENHOTLINE_CRAWL_CONNECT_TIMEOUT,
        read_timeout=settings.OPENHOTLINE_CRAWL_DEADLINE,
        deadline=settings.OPENHOTLINE_CRAWL_DEADLINE,
        max_redirects=settings.OPENHOTLINE_CRAWL_MAX_REDIRECTS,
        user_agent=settings.OPENHOTLINE_CRAWL_USER_AGENT,
        proxy=proxy,
        proxy_resolves_names=bool(proxy) and resolves_names,
        verify_tls=settings.OPENHOTLINE_CRAWL_VERIFY_TLS,
        resolver=_fetch_resolver(),
    )


def crawl_policy(
    rule: DomainRule | None = None, *, may_follow: Callable[[str], bool] | None = None
) -> CrawlPolicy:
    """The crawl's limits: the settings, with the domain rule's proxy and link following.

    `may_follow` checks each same-site page before it is followed (the rules
    of the site's other hosts: `rules.SiteRules`).
    """
    follow_depth = settings.OPENHOTLINE_CRAWL_FOLLOW_DEPTH
    follow_pages = settings.OPENHOTLINE_CRAWL_FOLLOW_PAGES
    if rule is not None and rule.do_not_follow:
        follow_depth = 0
    elif rule is not None:
        follow_depth = follow_depth if rule.follow_depth is None else rule.follow_depth
        follow_pages = follow_pages if rule.follow_pages is None else rule.follow_pages
    return CrawlPolicy(
        fetch=fetch_policy(proxy=rule.proxy if rule is not None and rule.proxy else None),
        max_page_bytes=settings.OPENHOTLINE_CRAWL_PAGE_MAX_BYTES,
        max_media_bytes=settings.OPENHOTLINE_CRAWL_MEDIA_MAX_BYTES,
        max_media_per_page=settings.OPENHOTLINE_CRAWL_MAX_MEDIA_PER_PAGE,
        max_media_total=settings.OPENHOTLINE_CRAWL_MAX_MEDIA_TOTAL,
        iframe_depth=settings.OPENHOTLINE_CRAWL_IFRAME_DEPTH,
        viewer_depth=settings.OPENHOTLINE_CRAWL_VIEWER_DEPTH,
        workers=settings.OPENHOTLINE_CRAWL_THREADS,
        per_host_concurrency=settings.OPENHOTLINE_CRAWL_THREADS,
        keep_bytes=False,
        byte_budget=settings.OPENHOTLINE_CRAWL_BYTE_BUDGET,
        follow_depth=follow_depth,
        max_followed_pages=follow_pages,
        may_follow=may_follow,
        # Each followed page brings its own frames, stylesheets and viewer pages.
        max_documents=100 + 50 * follow_pages,
    )


def site_crawl_policy(
    hotline: Organisation, url: str, rule: DomainRule | None = None
) -> CrawlPolicy:
    """`crawl_policy(rule)` for a crawl of `url` for `hotline`: a page on another host of
    the site is followed only if that host's own rule allows it (`rules.SiteRules`)."""
    return crawl_policy(rule, may_follow=site_rules(hotline, url, rule).may_follow)


def rdap_fetch_policy() -> FetchPolicy:
    """RDAP is small JSON from registries: tight limits, same address checks, no crawl proxy."""
    return FetchPolicy(
        allow=tuple(settings.OPENHOTLINE_FETCH_ALLOW),
        max_bytes=2 * 1024 * 1024,
        max_decoded_bytes=8 * 1024 * 1024,
        connect_timeout=settings.OPENHOTLINE_CRAWL_CONNECT_TIMEOUT,
        read_timeout=20.0,
        deadline=20.0,
        max_redirects=5,
        user_agent=settings.OPENHOTLINE_CRAWL_USER_AGENT,
        resolver=_fetch_resolver(),
    )


@dataclass
class HostingServices:
    """What a hosting trace consults; `close()` when done (RDAP keeps connections)."""

    geo: GeoDatabase
    cdn: tuple[CdnProvider, ...]
    resolver: dns.resolver.Resolver
    rdap: RdapLookup | None
    fetcher: SafeFetcher | None

    def trace(
        self,
        host: str,
        connected_address: str | None,
        overrides: Overrides | None,
        *,
        use_dns: bool = True,
    ) -> HostingTrace:
        """Trace `host`; `use_dns=False` where a local lookup would leak (Tor, .onion)."""
        return trace_host(
            host,
            geo=self.geo,
            cdn_providers=self.cdn,
            resolver=self.resolver if use_dns else None,
            connected_address=connected_address,
            rdap=self.rdap,
            overrides=overrides,
        )

    def close(self) -> None:
        if self.fetcher is not None:
            self.fetcher.close()


def hosting_services(cache: RdapCache) -> HostingServices:
    fetcher = None
    rdap: RdapLookup | None = None
    if settings.OPENHOTLINE_RDAP_CLIENT:
        fetcher = SafeFetcher(rdap_fetch_policy())
        rdap = import_string(settings.OPENHOTLINE_RDAP_CLIENT)(
            fetcher=fetcher,
            bootstrap_url=settings.OPENHOTLINE_RDAP_BOOTSTRAP_URL,
            cache=cache,
            ttl=settings.OPENHOTLINE_RDAP_CACHE_HOURS * 3600,
        )
    return HostingServices(
        # The operator's loaded AS table, .mmdb files and CDN ranges over the defaults
        # (hostingdata, geofiles).
        geo=current_geo(
            geo_database_for(settings.OPENHOTLINE_GEOIP_MMDB, settings.OPENHOTLINE_GEOIP_ASN_MMDB)
        ),
        cdn=current_providers(settings.OPENHOTLINE_CDN_RANGES_DIR),
        resolver=dns_resolver(),
        rdap=rdap,
        fetcher=fetcher,
    )


def overrides_for(rule: DomainRule | None) -> Overrides | None:
    if rule is None:
        return None
    return Overrides(
        hoster=rule.force_hoster,
        registrar=rule.force_registrar,
        site_owner=(rule.site_owner_contact or "the site owner") if rule.notify_site_owner else "",
    )
