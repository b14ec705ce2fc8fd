"""Fixtures of the takedown tests: a real SMTP server, and a small internet on loopback.

- ``smtp``: aiosmtpd on 127.0.0.1, with a login, made the notice sender's server.
- ``internet``: a DNS server (names → loopback addresses), an IP database
  (127.0.0.0/24 in DK, 127.0.1.0/24 in NL), CDN ranges (127.0.9.0/24) and an
  RDAP server: 127.0.0.0/29 belongs to "Loopback Hosting ApS"
  <abuse@hoster.test>, 127.0.0.8/29 to "Other Hosting ApS" <abuse@other.test>;
  the domain site.test is with "Test Registrar A/S" <abuse@registrar.test>.
  Only 127.0.0.1 is ever connected to; the other addresses are DNS answers.
- ``website``: the loopback web server, reached as http://gallery.site.test:PORT/.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from pytest_django import Settings as SettingsWrapper

from openhotline.crawler.geo import geo_database
from openhotline.lib.netcheck import parse_allow_list
from tests.network.conftest import (  # noqa: F401  (fixtures shared with the network tests)
    analyst_b,
    assess,
    hotline_c,
    interpol,
    interpol_org,
    network_settings,
    outsider_c,
)
from tests.support.dnsserver import DnsServer, dns_server
from tests.support.loopback import LoopbackServer, reply, serve
from tests.support.services import free_port

SMTP_USER, SMTP_PASSWORD = "notices", "smtp secret 1"


@dataclass
class Mailbox:
    """What the SMTP server received: (envelope sender, recipients, raw message)."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            data.login.decode(),
            data.password.decode(),
        ) == (SMTP_USER, SMTP_PASSWORD)
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)


@pytest.fixture
def smtp(settings: SettingsWrapper) -> Iterator[Mailbox]:
    """A real SMTP server on loopback that requires a login, made the notices' server."""
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    settings.OPENHOTLINE_MAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.OPENHOTLINE_SMTP_HOST = "127.0.0.1"
    settings.OPENHOTLINE_SMTP_PORT = port
    settings.OPENHOTLINE_SMTP_SECURITY = "none"
    settings.OPENHOTLINE_SMTP_USER = SMTP_USER
    settings.OPENHOTLINE_SMTP_PASSWORD = SMTP_PASSWORD
    settings.OPENHOTLINE_SMTP_TIMEOUT = 5
    try:
        yield box
    finally:
        controller.stop()


def _vcard(name: str, email: str = "") -> list[Any]:
    props: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if email:
        props.append(["email", {}, "text", email])
    return ["vcard", props]


def _network(cidr: str, holder: str, abuse: str) -> dict[str, Any]:
    net = ipaddress.ip_network(cidr)
    return {
        "objectClassName": "ip network",
        "handle": f"NET-{cidr}",
        "name": holder.upper().replace(" ", "-"),
        "startAddress": str(net.network_address),
        "endAddress": str(net.broadcast_address),
        "country": "DK",
        "cidr0_cidrs": [{"v4prefix": str(net.network_address), "length": net.prefixlen}],
        "entities": [
            {"roles": ["registrant"], "vcardArray": _vcard(holder)},
            {"roles": ["abuse"], "vcardArray": _vcard("Abuse", abuse)},
        ],
    }


NETWORKS = {
    "127.0.0.0/29": _network("127.0.0.0/29", "Loopback Hosting ApS", "abuse@hoster.test"),
    "127.0.0.8/29": _network("127.0.0.8/29", "Other Hosting ApS", "abuse@other.test"),
    "127.0.1.0/24": _network("127.0.1.0/24", "Dutch Hosting BV", "abuse@dutch.test"),
    "127.0.9.0/24": _network("127.0.9.0/24", "Test CDN Inc", "noc@cdn.test"),
}
REGISTRAR = {
    "objectClassName": "domain",
    "ldhName": "site.test",
    "entities": [
        {
            "roles": ["registrar"],
            "vcardArray": _vcard("Test Registrar A/S"),
            "entities": [{"roles": ["abuse"], "vcardArray": _vcard("", "abuse@registrar.test")}],
        }
    ],
}


def _rdap(handler: BaseHTTPRequestHandler, data: Any, status: int = 200) -> None:
    body = json.dumps(data).encode()
    reply(handler, body, status=status, content_type="application/rdap+json")


def _ip_route(handler: BaseHTTPRequestHandler) -> None:
    address = ipaddress.ip_address(handler.path.rsplit("/", 1)[1])
    for cidr, record in NETWORKS.items():
        if address in ipaddress.ip_network(cidr):
            _rdap(handler, record)
            return
    _rdap(handler, {"errorCode": 404}, status=404)


def _domain_route(handler: BaseHTTPRequestHandler) -> None:
    if handler.path.rsplit("/", 1)[1] == "site.test":
        _rdap(handler, REGISTRAR)
    else:
        _rdap(handler, {"errorCode": 404}, status=404)


@dataclass
class Internet:
    dns: DnsServer
    rdap: LoopbackServer

    def point(self, name: str, address: str) -> None:
        """Make ``name`` resolve to ``address`` from now on."""
        self.dns.records[name] = [("A", address)]


def _mmdb(path: Path) -> str:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    for cidr, country in (("127.0.0.0/24", "DK"), ("127.0.1.0/24", "NL")):
        writer.insert_network(IPSet([cidr]), {"country": {"iso_code": country}})
    writer.to_db_file(str(path))
    return str(path)


@pytest.fixture
def internet(tmp_path: Path, settings: SettingsWrapper) -> Iterator[Internet]:
    cdn_dir = tmp_path / "cdn"
    cdn_dir.mkdir()
    (cdn_dir / "testcdn.txt").write_text(
        "# provider: Test CDN\n# abuse: abuse@cdn.test\n# as-of: 2026-01-01\n127.0.9.0/24\n"
    )
    settings.OPENHOTLINE_FETCH_ALLOW = parse_allow_list("127.0.0.1")
    settings.OPENHOTLINE_CRAWL_DEADLINE = 3.0
    settings.OPENHOTLINE_CRAWL_CONNECT_TIMEOUT = 2.0
    settings.OPENHOTLINE_CRAWL_THREADS = 4
    settings.OPENHOTLINE_CRAWL_RENDER = "off"
    settings.OPENHOTLINE_CRAWL_ATTEMPTS = 1
    settings.OPENHOTLINE_CRAWL_RETRY_SECONDS = 0
    settings.OPENHOTLINE_GEOIP_MMDB = _mmdb(tmp_path / "country.mmdb")
    settings.OPENHOTLINE_GEOIP_ASN_MMDB = ""
    settings.OPENHOTLINE_CDN_RANGES_DIR = str(cdn_dir)
    records: dict[str, list[tuple[str, str]]] = {"gallery.site.test": [("A", "127.0.0.1")]}
    with dns_server(records) as dns, serve({}) as rdap:
        settings.OPENHOTLINE_DNS_SERVERS = [(dns.host, dns.port)]
        boot = {
            "ipv4.json": [[["127.0.0.0/8"], [rdap.url("/rdap/")]]],
            "ipv6.json": [[["2001:db8::/32"], [rdap.url("/rdap/")]]],
            "dns.json": [[["test"], [rdap.url("/rdap/")]]],
        }
        for name, services in boot.items():
            body = {"version": "1.0", "publication": "2026-01-01T00:00:00Z", "services": services}
            rdap.routes[f"/bootstrap/{name}"] = partial(_rdap, data=body)
        rdap.routes["/rdap/ip/*"] = _ip_route
        rdap.routes["/rdap/domain/*"] = _domain_route
        settings.OPENHOTLINE_RDAP_CLIENT = "openhotline.crawler.rdap.RdapClient"
        settings.OPENHOTLINE_RDAP_BOOTSTRAP_URL = rdap.url("/bootstrap/")
        yield Internet(dns, rdap)
    geo_database.cache_clear()


@pytest.fixture
def website(internet: Internet) -> Iterator[LoopbackServer]:
    with serve({}) as server:
        yield server


def site_url(server: LoopbackServer, path: str) -> str:
    return server.url(path, host="gallery.site.test")
