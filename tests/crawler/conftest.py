"""Fixtures of the crawler tests: settings for loopback, a website, a DNS and an RDAP server.

Everything is served on 127.0.0.1 by the tests; 127.0.0.2 stays out of the
allow-list and plays the internal address that must never be reached.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Retry
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from PIL import Image
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation
from openhotline.crawler.models import CrawlRun
from openhotline.crawler.tasks import crawl_reported_url
from openhotline.lib.netcheck import parse_allow_list
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource
from tests.support.dnsserver import DnsServer, Records, dns_server
from tests.support.evidence import own_evidence_store
from tests.support.loopback import LoopbackServer, Route, reply, serve


@pytest.fixture(autouse=True)
def crawler_settings(tmp_path: Path, settings: SettingsWrapper) -> Iterator[None]:
    """Loopback allowed, short limits, no rendering or RDAP unless a test turns them on."""
    settings.OPENHOTLINE_FETCH_ALLOW = parse_allow_list("127.0.0.1")
    settings.OPENHOTLINE_CRAWL_DEADLINE = 3.0
    settings.OPENHOTLINE_CRAWL_CONNECT_TIMEOUT = 2.0
    settings.OPENHOTLINE_CRAWL_PAGE_MAX_BYTES = 512 * 1024
    settings.OPENHOTLINE_CRAWL_MEDIA_MAX_BYTES = 2 * 1024 * 1024
    settings.OPENHOTLINE_CRAWL_DECODED_MAX_BYTES = 4 * 1024 * 1024
    settings.OPENHOTLINE_CRAWL_MAX_MEDIA_PER_PAGE = 50
    settings.OPENHOTLINE_CRAWL_THREADS = 8
    settings.OPENHOTLINE_CRAWL_RENDER = "off"
    settings.OPENHOTLINE_CRAWL_ATTEMPTS = 2
    settings.OPENHOTLINE_CRAWL_RETRY_SECONDS = 0
    settings.OPENHOTLINE_CRAWL_HOST_WAITS = 2
    settings.OPENHOTLINE_DNS_SERVERS = []
    settings.OPENHOTLINE_RDAP_CLIENT = ""
    settings.OPENHOTLINE_GEOIP_MMDB = ""
    settings.OPENHOTLINE_GEOIP_ASN_MMDB = ""
    settings.OPENHOTLINE_CDN_RANGES_DIR = ""
    with own_evidence_store(settings, tmp_path):
        yield


def png(color: str = "red", size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def page(html: str | bytes, content_type: str | None = "text/html; charset=utf-8") -> Route:
    body = html.encode() if isinstance(html, str) else html
    return lambda h: reply(h, body, content_type=content_type)


def media(data: bytes, content_type: str | None = "image/png") -> Route:
    return lambda h: reply(h, data, content_type=content_type)


@pytest.fixture
def web() -> Iterator[LoopbackServer]:
    with serve({}) as server:
        yield server


@pytest.fixture
def inner() -> Iterator[LoopbackServer]:
    """A server on 127.0.0.2 (refused by the allow-list): it must never see a request."""
    server = LoopbackServer({"*": page("internal"), "/": page("internal")}, host="127.0.0.2")
    import threading

    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=5)


def file_url(hotline: Organisation, url: str) -> ReportedUrl:
    report = do_file_report(hotline, source=ReportSource.PUBLIC, urls=[url])
    return report.urls.get()


GALLERY = (
    '<title>Gallery</title><img src="/a.png"><img data-src="/b.png">'
    '<div style="background:url(/c.png)"></div>'
)


def gallery(web: LoopbackServer) -> None:
    web.routes["/"] = page(GALLERY)
    for name, color in (("a", "red"), ("b", "green"), ("c", "blue")):
        web.routes[f"/{name}.png"] = media(png(color))


def run_task(reported_url: ReportedUrl, **kwargs: object) -> tuple[str, list[float]]:
    """Run the task as a worker would, retries included (without waiting out the delays)."""
    waits: list[float] = []
    while len(waits) < 20:
        try:
            result = crawl_reported_url.apply(
                args=(reported_url.pk,), kwargs=kwargs, retries=len(waits), throw=True
            )
        except Retry as retry:
            waits.append(float(retry.when or 0))  # type: ignore[arg-type]
            continue
        return str(result.get()), waits
    raise AssertionError("the task kept retrying")


def run(reported_url: ReportedUrl, **kwargs: object) -> CrawlRun:
    run_task(reported_url, **kwargs)
    reported_url.refresh_from_db()
    return CrawlRun.objects.filter(reported_url=reported_url).first()  # type: ignore[return-value]


def write_mmdb(path: Path, kind: str, networks: dict[str, dict[str, object]]) -> str:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=kind)
    for cidr, record in networks.items():
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return str(path)


# --- DNS ------------------------------------------------------------------------


@pytest.fixture
def dns_records() -> Records:
    return {}


@pytest.fixture
def dns(dns_records: Records, settings: SettingsWrapper) -> Iterator[DnsServer]:
    """A DNS server on loopback, also made the crawler's resolver."""
    with dns_server(dns_records) as server:
        settings.OPENHOTLINE_DNS_SERVERS = [(server.host, server.port)]
        yield server


# --- RDAP -----------------------------------------------------------------------


def vcard(name: str, email: str = "") -> list[Any]:
    props: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if email:
        props.append(["email", {}, "text", email])
    return ["vcard", props]


# An ARIN-style network: the abuse contact is nested inside the registrant.
NETWORKS: dict[str, dict[str, Any]] = {
    "127.0.0.0/8": {
        "objectClassName": "ip network",
        "handle": "NET-127-0-0-0-1",
        "name": "LOOPBACK-HOSTING",
        "startAddress": "127.0.0.0",
        "endAddress": "127.255.255.255",
        "country": "dk",
        "cidr0_cidrs": [{"v4prefix": "127.0.0.0", "length": 8}],
        "entities": [
            {
                "roles": ["registrant"],
                "vcardArray": vcard("Loopback Hosting ApS"),
                "entities": [
                    {"roles": ["abuse"], "vcardArray": vcard("Abuse desk", "abuse@hoster.test")}
                ],
            }
        ],
    },
    "193.0.0.0/21": {
        "objectClassName": "ip network",
        "handle": "193.0.0.0 - 193.0.7.255",
        "name": "RIPE-NCC",
        "startAddress": "193.0.0.0",
        "endAddress": "193.0.7.255",
        "country": "NL",
        "entities": [
            {"roles": ["registrant"], "vcardArray": vcard("RIPE Network Coordination Centre")},
            {"roles": ["abuse"], "vcardArray": vcard("Abuse-C", "abuse@ripe.test")},
        ],
    },
}
DOMAINS: dict[str, dict[str, Any]] = {
    "site.test": {
        "objectClassName": "domain",
        "ldhName": "site.test",
        "entities": [
            {
                "roles": ["registrar"],
                "vcardArray": vcard("Test Registrar A/S"),
                "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
                "entities": [{"roles": ["abuse"], "vcardArray": vcard("", "abuse@registrar.test")}],
            }
        ],
    }
}


def rdap_json(handler: BaseHTTPRequestHandler, data: Any, status: int = 200) -> None:
    reply(handler, json.dumps(data).encode(), status=status, content_type="application/rdap+json")


@pytest.fixture
def rdap(settings: SettingsWrapper) -> Iterator[LoopbackServer]:
    """An RDAP server (bootstrap files included) on loopback, made the crawler's RDAP."""
    import ipaddress

    def ip_route(handler: BaseHTTPRequestHandler) -> None:
        address = ipaddress.ip_address(handler.path.rsplit("/", 1)[1])
        for cidr, record in NETWORKS.items():
            if address in ipaddress.ip_network(cidr):
                rdap_json(handler, record)
                return
        rdap_json(handler, {"errorCode": 404}, status=404)

    def domain_route(handler: BaseHTTPRequestHandler) -> None:
        name = handler.path.rsplit("/", 1)[1]
        if name in DOMAINS:
            rdap_json(handler, DOMAINS[name])
        else:
            rdap_json(handler, {"errorCode": 404}, status=404)

    with serve({"/rdap/ip/*": ip_route, "/rdap/domain/*": domain_route}) as server:
        base = server.url("/rdap/")
        boot = {
            "ipv4.json": [[["127.0.0.0/8", "193.0.0.0/8", "104.0.0.0/8"], [base]]],
            "ipv6.json": [[["2001:db8::/32"], [base]]],
            "dns.json": [[["test"], [base]]],
        }
        for name, services in boot.items():
            body = {"version": "1.0", "publication": "2024-01-01T00:00:00Z", "services": services}
            server.routes[f"/bootstrap/{name}"] = partial(rdap_json, data=body)
        settings.OPENHOTLINE_RDAP_CLIENT = "openhotline.crawler.rdap.RdapClient"
        settings.OPENHOTLINE_RDAP_BOOTSTRAP_URL = server.url("/bootstrap/")
        yield server
