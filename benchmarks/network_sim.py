"""A simulated internet of hosters on loopback, run through the whole chain, end to end.

    python benchmarks/network_sim.py --reports 200 --hosters 12 --seed 1 --minutes 6 --json

What runs (all on this machine, all on loopback):

- H hosters, each on its own address (127.0.0.10, .11, …, one port for all),
  serving its sites under ``.test`` names that a DNS server on loopback
  resolves (the operator's resolver setting, ``OPENHOTLINE_DNS_SERVERS``); an
  RDAP server names each hoster's network, its abuse address and its
  country; an IP database places it. A share is in the hotline's own country
  (DK), the rest in NL (a peer hotline reached by e-mail) or BR (no member
  hotline: INTERPOL). Half the hosters' abuse contacts are entered and
  approved by the admin before the run; the others are found by RDAP and
  approved by the (simulated) admin when they appear.
- A hoster removes a site after a delay drawn from its class (responsive:
  hours, slow: days, ignoring: only after an escalation reaches its
  registrar), counted from the first notice it receives by e-mail (a local
  SMTP sink), or, abroad, from the forward or referral. Some sites move to
  another hoster of the same country after a notice.
- Reports come through the partner API and the public form (Django's test
  client, through the real views), some for URLs reported before. Each site
  shows two generated images; a share of the images is "known", their
  SHA-256 in a trusted hash set.
- A simulated analyst works the queue through the real actions
  (``do_claim_url``, the reveal's ``do_count_reveal`` and
  ``do_record_media_view``, ``do_classify_item``, ``do_finish_url``,
  ``do_resolve_attention``), with a think time per URL and per item it
  reveals; a known item, pre-classified by matching, is not looked at.
- One real worker process (``openhotline worker --beat``) does the rest:
  crawls, hashing, matching, routing, notices, re-checks, forwards.

Time is scaled: one simulated day is ``--day-seconds`` real seconds, and every
interval of the chain (notice batching, re-sends, escalation, re-check
schedule and spacing, sweeps) is set to its production value scaled so.
The benchmark never writes to the database itself: it reads the rows to
measure. Printed: a table with the goals beside each figure, then (with
``--json``) one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import importlib
import io
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOME, PEER, NO_MEMBER = "DK", "NL", "BR"
CLASSES = (("responsive", 0.5), ("slow", 0.3), ("ignoring", 0.2))
DAY_SIM = 86400.0
BEAT_FLOOR = 3.0  # seconds: the shortest period a beat task gets
# URL states before the analyst's verdict (the first two: not crawled yet).
PRE_ASSESSMENT = ("new", "crawling", "awaiting_assessment", "assessing")


# --- the simulated internet --------------------------------------------------------------


@dataclass
class Hoster:
    index: int
    address: str
    country: str
    kind: str
    preapproved: bool

    @property
    def abuse(self) -> str:
        return f"abuse@h{self.index}.test"

    @property
    def name(self) -> str:
        return f"Hoster {self.index}"


@dataclass
class Site:
    """One reported page: its host name, its images, and where it is (the truth)."""

    number: int
    host: str
    images: list[bytes]
    known: list[bool]
    hosters: list[int]  # every hoster that ever hosted it, the current one last
    removed_at: float | None = None  # monotonic time the last hoster took it down
    remove_due: float | None = None
    notified_at: float | None = None  # first notice (or forward/referral) at its hoster
    own_delay: float | None = None  # the hoster's own delay, real seconds
    escalated: bool = False
    moved: bool = False
    first_reported: float | None = None

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}/gallery/{self.number}"


@dataclass
class World:
    hosters: list[Hoster]
    sites: dict[str, Site] = field(default_factory=dict)  # host name → site
    lock: threading.Lock = field(default_factory=threading.Lock)
    mails: list[tuple[float, list[str], bytes]] = field(default_factory=list)

    def current(self, site: Site) -> Hoster:
        return self.hosters[site.hosters[-1]]


def _page(site: Site) -> bytes:
    images = "".join(f'<img src="/img/{site.number}/{n}.png">' for n in range(len(site.images)))
    return f"<html><title>Gallery {site.number}</title><body>{images}</body></html>".encode()


def hoster_server(world: World, hoster: Hoster, port: int) -> ThreadingHTTPServer:
    """One hoster's web server: it serves the sites it hosts until it takes them down."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            with world.lock:
                site = world.sites.get(host)
                here = (
                    site is not None
                    and site.hosters[-1] == hoster.index
                    and site.removed_at is None
                )
            if site is None or not here:
                self._send(404, b"not found", "text/plain")
            elif self.path.startswith("/gallery/"):
                self._send(200, _page(site), "text/html")
            elif m := re.fullmatch(r"/img/\d+/(\d+)\.png", self.path):
                self._send(200, site.images[int(m.group(1))], "image/png")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer((hoster.address, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def rdap_routes(world: World) -> dict[str, Any]:
    from tests.support.loopback import reply

    def answer(handler: BaseHTTPRequestHandler, data: Any, status: int = 200) -> None:
        reply(
            handler, json.dumps(data).encode(), status=status, content_type="application/rdap+json"
        )

    def vcard(name: str, mail: str = "") -> list[Any]:
        props: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
        if mail:
            props.append(["email", {}, "text", mail])
        return ["vcard", props]

    def ip(handler: BaseHTTPRequestHandler) -> None:
        address = handler.path.rsplit("/", 1)[1]
        for h in world.hosters:
            if h.address == address:
                answer(
                    handler,
                    {
                        "objectClassName": "ip network",
                        "handle": f"NET-H{h.index}",
                        "name": f"HOSTER-{h.index}",
                        "startAddress": h.address,
                        "endAddress": h.address,
                        "country": h.country,
                        "cidr0_cidrs": [{"v4prefix": h.address, "length": 32}],
                        "entities": [
                            {"roles": ["registrant"], "vcardArray": vcard(h.name)},
                            {"roles": ["abuse"], "vcardArray": vcard("Abuse", h.abuse)},
                        ],
                    },
                )
                return
        answer(handler, {"errorCode": 404}, status=404)

    def domain(handler: BaseHTTPRequestHandler) -> None:
        name = handler.path.rsplit("/", 1)[1].lower()
        m = re.fullmatch(r"site(\d+)\.test", name)
        if m is None:
            answer(handler, {"errorCode": 404}, status=404)
            return
        registrar = f"registrar-{int(m.group(1)) % 3}"
        answer(
            handler,
            {
                "objectClassName": "domain",
                "ldhName": name,
                "entities": [
                    {
                        "roles": ["registrar"],
                        "vcardArray": vcard(registrar.title()),
                        "entities": [
                            {"roles": ["abuse"], "vcardArray": vcard("", f"abuse@{registrar}.test")}
                        ],
                    }
                ],
            },
        )

    return {"/rdap/ip/*": ip, "/rdap/domain/*": domain}


def _bootstrap(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    from tests.support.loopback import reply

    reply(handler, body, content_type="application/json")


def geo_database(world: World, path: Path) -> str:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    for h in world.hosters:
        writer.insert_network(IPSet([f"{h.address}/32"]), {"country": {"iso_code": h.country}})
    writer.to_db_file(str(path))
    return str(path)


class Sink:
    """The SMTP server every hoster, registrar and peer hotline reads its mail from."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.world.lock:
            self.world.mails.append(
                (time.monotonic(), list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 accepted"


def generated_image(rng: random.Random) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (48, 48))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))] * (48 * 48))
    for _ in range(40):
        x, y = rng.randrange(40), rng.randrange(40)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        for dx in range(8):
            for dy in range(8):
                image.putpixel((x + dx, y + dy), colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


# --- the clock ------------------------------------------------------------------------------


def clock_settings(
    day_seconds: float, recheck_hours: float, police_first_hours: float
) -> dict[str, str]:
    """Every interval of the chain at its production value, scaled to ``day_seconds``.

    The beat's own periods (notice batch, re-check sweep, network sweep) are kept
    to at least ``BEAT_FLOOR`` seconds: a periodic task queued faster than one
    worker runs it only fills the queue, and the forwards and notices behind
    it wait (measured: 280 tasks waiting after a minute at a third of a second).
    """
    scale = day_seconds / DAY_SIM  # real seconds per simulated second
    minute = 60 * scale  # real seconds per simulated minute
    return {
        "OPENHOTLINE_NOTICE_BATCH_MINUTES": f"{max(60 * minute, BEAT_FLOOR) / 60:.6f}",
        "OPENHOTLINE_NOTICE_RESEND_HOURS": f"{24 * 60 * minute / 3600:.8f}",
        "OPENHOTLINE_NOTICE_ESCALATE_DAYS": f"{7 * day_seconds / DAY_SIM:.8f}",
        "OPENHOTLINE_RECHECK_HOURS": f"{recheck_hours * 60 * minute / 3600:.8f}",
        "OPENHOTLINE_RECHECK_CONFIRM_MINUTES": f"{60 * minute / 60:.6f}",
        "OPENHOTLINE_RECHECK_SWEEP_SECONDS": f"{max(5 * minute, BEAT_FLOOR):.3f}",
        "OPENHOTLINE_RECHECK_LEASE_MINUTES": f"{max(10 * minute, 2 * BEAT_FLOOR) / 60:.6f}",
        "OPENHOTLINE_NETWORK_SWEEP_SECONDS": f"{max(60 * minute, 4 * BEAT_FLOOR):.3f}",
        "OPENHOTLINE_FORWARD_RETRY_MINUTES": f"{max(60 * minute, 4 * BEAT_FLOOR) / 60:.6f}",
        # For a hotline without a directory entry; the simulated one has an entry, and
        # the run sets the same hold there (``network member set --police-hours``).
        "OPENHOTLINE_POLICE_FIRST_HOURS": f"{police_first_hours * 60 * minute / 3600:.8f}",
    }


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Analyst:
    think_url: float
    think_item: float
    busy_seconds: float = 0.0
    urls: int = 0
    revealed: int = 0
    next_free: float = 0.0
    confirm_seconds: float = 0.0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = int(position)
    if low + 1 >= len(ordered):
        return ordered[low]
    return ordered[low] + (position - low) * (ordered[low + 1] - ordered[low])


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:  # noqa: C901, PLR0915
    rng = random.Random(args.seed)
    hosters: list[Hoster] = []
    for i in range(args.hosters):
        home = i < max(1, round(args.hosters * args.home_share))
        country = HOME if home else (PEER if i % 2 else NO_MEMBER)
        kind = rng.choices([c for c, _ in CLASSES], [w for _, w in CLASSES])[0]
        hosters.append(Hoster(i, f"127.0.0.{10 + i}", country, kind, preapproved=i % 2 == 0))
    world = World(hosters)
    port = free_port(hosters[0].address)
    servers = [hoster_server(world, h, port) for h in hosters]

    from aiosmtpd.controller import Controller

    from tests.support.dnsserver import dns_server
    from tests.support.loopback import serve
    from tests.support.services import redis_server

    smtp_port = free_port("127.0.0.1")
    controller = Controller(Sink(world), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    data = workdir / "data"
    data.mkdir()
    cdn = workdir / "cdn"
    cdn.mkdir()
    records: dict[str, list[tuple[str, str]]] = {}
    worker: subprocess.Popen[bytes] | None = None
    with (
        dns_server(records) as dns,
        serve(rdap_routes(world)) as rdap,
        redis_server(workdir) as broker,
    ):
        if broker is None:
            raise SystemExit("redis-server is needed")
        boot = {
            "ipv4.json": [[["127.0.0.0/8"], [rdap.url("/rdap/")]]],
            "ipv6.json": [[["2001:db8::/32"], [rdap.url("/rdap/")]]],
            "dns.json": [[["test"], [rdap.url("/rdap/")]]],
        }

        for name, services in boot.items():
            body = json.dumps(
                {"version": "1.0", "publication": "2026-01-01T00:00:00Z", "services": services}
            ).encode()
            rdap.routes[f"/bootstrap/{name}"] = partial(_bootstrap, body=body)
        env = {
            "OPENHOTLINE_DATA": str(data),
            "DJANGO_SETTINGS_MODULE": "openhotline.settings",
            "CELERY_BROKER_URL": broker,
            "OPENHOTLINE_REQUIRE_2FA": "false",
            "OPENHOTLINE_ALLOWED_HOSTS": "testserver",
            "OPENHOTLINE_LOG_LEVEL": args.worker_loglevel,
            "OPENHOTLINE_FETCH_ALLOW": "127.0.0.0/24",
            "OPENHOTLINE_DNS_SERVERS": f"{dns.host}:{dns.port}",
            "OPENHOTLINE_GEOIP_MMDB": geo_database(world, workdir / "country.mmdb"),
            "OPENHOTLINE_GEOIP_ASN_MMDB": "",
            "OPENHOTLINE_CDN_RANGES_DIR": str(cdn),
            "OPENHOTLINE_RDAP_CLIENT": "openhotline.crawler.rdap.RdapClient",
            "OPENHOTLINE_RDAP_BOOTSTRAP_URL": rdap.url("/bootstrap/"),
            "OPENHOTLINE_CRAWL_RENDER": "off",
            "OPENHOTLINE_CRAWL_DEADLINE": "10",
            "OPENHOTLINE_CRAWL_CONNECT_TIMEOUT": "3",
            "OPENHOTLINE_CRAWL_RETRY_SECONDS": "2",
            "OPENHOTLINE_CRAWL_SWEEP_SECONDS": "20",
            "OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS": "60",
            "OPENHOTLINE_CRAWL_FOLLOW_DEPTH": "0",
            "OPENHOTLINE_INTAKE_RATE_LIMIT": "1000000",
            "OPENHOTLINE_MAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPENHOTLINE_SMTP_HOST": "127.0.0.1",
            "OPENHOTLINE_SMTP_PORT": str(smtp_port),
            "OPENHOTLINE_SMTP_SECURITY": "none",
            "OPENHOTLINE_MAIL_FROM": "notices@hotline-dk.test",
            **clock_settings(args.day_seconds, args.recheck_hours, args.police_first_hours),
        }
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        else:
            os.environ.pop("DATABASE_URL", None)
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        try:
            return simulate(args, world, port, rng, env, workdir, dns.records)
        finally:
            worker = _WORKER.get("proc")
            if worker is not None:
                try:
                    os.killpg(worker.pid, signal.SIGTERM)
                    worker.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(worker.pid, signal.SIGKILL)
            controller.stop()
            for server in servers:
                server.shutdown()
                server.server_close()


_WORKER: dict[str, subprocess.Popen[bytes]] = {}


def simulate(  # noqa: C901, PLR0912, PLR0915
    args: argparse.Namespace,
    world: World,
    port: int,
    rng: random.Random,
    env: dict[str, str],
    workdir: Path,
    world_dns: dict[str, list[tuple[str, str]]],
) -> dict[str, Any]:
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from openhotline.accounts.actions import (
        do_create_api_key,
        do_create_organisation,
        do_create_user,
    )
    from openhotline.accounts.models import Role
    from openhotline.assessment.actions.claims import do_claim_url
    from openhotline.assessment.actions.classification import (
        do_classify_item,
        do_confirm_item,
        do_finish_url,
    )
    from openhotline.assessment.actions.wellbeing import do_count_reveal
    from openhotline.assessment.models import ItemStatus, ReviewState
    from openhotline.evidence.actions import do_record_media_view
    from openhotline.evidence.models import MediaItem
    from openhotline.matching.actions.hash_sets import do_create_set
    from openhotline.matching.actions.importing import do_import
    from openhotline.matching.models import Trust
    from openhotline.network.models import Forward, PoliceReferral
    from openhotline.reports.models import ReportedUrl, UrlState
    from openhotline.takedown.actions.cases import do_add_contact, do_resolve_attention
    from openhotline.takedown.actions.contacts import do_approve_contact
    from openhotline.takedown.models import (
        AbuseContact,
        CaseState,
        ContactKind,
        ContactSource,
        TakedownCase,
    )

    day = args.day_seconds
    hour = day / 24

    # 1. The hotline, its people, a partner with an API key, the peer and the trusted set.
    hotline = do_create_organisation(
        "Hotline DK", "hotline", HOME, contact_email="info@hotline-dk.test"
    )
    analyst = do_create_user("anna", hotline, Role.ANALYST, password=secrets.token_urlsafe(16))
    admin = do_create_user("adam", hotline, Role.ADMIN, password=secrets.token_urlsafe(16))
    senior = do_create_user(
        "sara", hotline, Role.SENIOR_ANALYST, password=secrets.token_urlsafe(16)
    )
    partner = do_create_organisation("Platform", "partner", HOME)
    key = do_create_api_key(partner, "simulation", "read_write")[1]
    call_command(
        "network", "member", "set", PEER, "--name", "Peer NL", "--email", "forwards@peer-nl.test"
    )
    # The police-first hold of the hotline's own directory entry, scaled like the rest.
    call_command(
        "network",
        "member",
        "set",
        HOME,
        "--hotline",
        hotline.slug,
        "--police-hours",
        env["OPENHOTLINE_POLICE_FIRST_HOURS"],
        stdout=io.StringIO(),
    )
    for h in world.hosters:
        if h.preapproved:
            contact = do_add_contact(
                AbuseContact(
                    hotline=hotline,
                    name=h.name,
                    email=h.abuse,
                    kind=ContactKind.HOSTER,
                    source=ContactSource.MANUAL,
                    country=h.country,
                ),
                actor=admin,
            )
            do_approve_contact(contact, actor=admin)
    known_pool = [generated_image(rng) for _ in range(max(4, args.reports // 3))]
    trusted = do_create_set(
        "Simulated trusted list", trust=Trust.TRUSTED, default_verdict="baseline"
    )
    import hashlib

    listing = "sha256\n" + "".join(hashlib.sha256(b).hexdigest() + "\n" for b in known_pool)
    do_import(trusted, io.BytesIO(listing.encode()), file_name="known.csv", format="csv")

    # 2. One real worker, with beat, on every queue.
    log = (workdir / "worker.log").open("ab")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openhotline",
            "worker",
            "--beat",
            "--queues",
            "crawl,media,default,celery",
            "--concurrency",
            str(args.concurrency),
            "--loglevel",
            args.worker_loglevel,
        ],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=str(ROOT),
    )
    _WORKER["proc"] = worker

    web = Client()
    queues = redis.Redis.from_url(env["CELERY_BROKER_URL"])
    session_store = importlib.import_module(settings.SESSION_ENGINE).SessionStore
    session = session_store()
    senior_session = session_store()
    person = Analyst(args.think_url, args.think_item)
    load_start = os.getloadavg()
    start = time.monotonic()
    end = start + args.minutes * 60
    arrivals_end = start + args.minutes * 60 * args.arrival_share
    gap = (arrivals_end - start) / max(1, args.reports)
    next_report = start
    sent = 0
    site_count = 0
    url_site: dict[str, Site] = {}
    report_times: list[tuple[float, str]] = []
    seen_mail = 0
    done_urls: set[int] = set()
    analyst_seconds: dict[int, float] = {}
    partner_reports = public_reports = duplicates = 0

    def new_site() -> Site:
        nonlocal site_count
        site_count += 1
        number = site_count
        host = f"www.site{number}.test"
        images, known = [], []
        for _ in range(2):
            if rng.random() < args.known_share:
                images.append(rng.choice(known_pool))
                known.append(True)
            else:
                images.append(generated_image(rng))
                known.append(False)
        hoster = rng.randrange(len(world.hosters))
        site = Site(number, host, images, known, [hoster])
        with world.lock:
            world.sites[host] = site
        world_dns[host] = [("A", world.hosters[hoster].address)]
        return site

    def move(site: Site) -> None:
        here = world.current(site)
        others = [h for h in world.hosters if h.country == here.country and h.index != here.index]
        if not others:
            return
        target = rng.choice(others)
        with world.lock:
            site.hosters.append(target.index)
            site.moved = True
            site.remove_due = None
            site.notified_at = None
        world_dns[site.host] = [("A", target.address)]

    def hoster_reads(now: float, urls: list[str], to: str, escalation: bool) -> None:
        """A hoster (or registrar) reads a notice: schedules the removal of what it hosts."""
        for u in urls:
            site = url_site.get(u)
            if site is None:
                continue
            host = world.current(site)
            if escalation:
                if not site.escalated:
                    site.escalated = True
                    if site.remove_due is None and site.removed_at is None:
                        delay = rng.uniform(1, 12) * hour
                        site.remove_due = now + delay
                        # Its own delay counts from the notice it ignored.
                        site.own_delay = site.remove_due - (site.notified_at or now)
                continue
            if to != host.abuse or site.notified_at is not None:
                continue
            site.notified_at = now
            if not site.moved and rng.random() < args.move_share and host.kind != "ignoring":
                move(site)
                continue
            delay = _delay(host.kind, rng, hour, day)
            if delay is not None:
                site.remove_due, site.own_delay = now + delay, delay

    misdirected: list[str] = []
    emails: Counter[str] = Counter()

    while time.monotonic() < end:
        now = time.monotonic()
        # Reports arrive at the set rate, some for URLs reported before.
        while sent < args.reports and now >= next_report:
            if url_site and rng.random() < args.duplicate_share:
                target = rng.choice(list(url_site))
                duplicates += 1
            else:
                site = new_site()
                target = site.url(port)
                url_site[target] = site
                site.first_reported = now
            if rng.random() < args.partner_share:
                response = web.post(
                    "/api/v1/reports",
                    {"urls": [target], "hotline": hotline.slug},
                    content_type="application/json",
                    headers={"Authorization": f"Bearer {key}"},
                )
                partner_reports += 1
                ok = response.status_code in (200, 201)
            else:
                response = web.post(f"/report/{hotline.slug}/", {"urls": target})
                public_reports += 1
                ok = response.status_code == 200
            if not ok:
                raise SystemExit(
                    f"report refused: {response.status_code} {response.content[:300]!r}"
                )
            report_times.append((now, target))
            sent += 1
            next_report += gap
        # Hosters take down what is due; peers and police abroad reach their hosters.
        with world.lock:
            for site in world.sites.values():
                if (
                    site.remove_due is not None
                    and site.removed_at is None
                    and now >= site.remove_due
                ):
                    site.removed_at = now
        # The mail: notices to hosters, escalations to registrars, forwards to the peer.
        with world.lock:
            fresh = world.mails[seen_mail:]
            seen_mail = len(world.mails)
        for received, recipients, raw in fresh:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            urls = sorted(set(re.findall(r"http://[a-z0-9.\-]+:\d+/gallery/\d+", text)))
            for to in recipients:
                emails[to.split("@", 1)[1]] += 1
                hoster = next((h for h in world.hosters if h.abuse == to), None)
                if hoster is not None:
                    for u in urls:
                        named = url_site.get(u)
                        if named is None or hoster.index not in named.hosters:
                            misdirected.append(f"{to}: {u}")
                    hoster_reads(received, urls, to, escalation=False)
                elif to.startswith("abuse@registrar-"):
                    for u in urls:
                        named = url_site.get(u)
                        if named is None or to != f"abuse@registrar-{named.number % 3}.test":
                            misdirected.append(f"{to}: {u}")
                    hoster_reads(received, urls, to, escalation=True)
        # Abroad: the peer's or the police's notice reaches the hoster at the forward or referral.
        abroad = ReportedUrl.objects.filter(
            hotline=hotline, hosting_country__in=[PEER, NO_MEMBER]
        ).exclude(pk__in=done_urls)
        for url in abroad.filter(state__in=[UrlState.FORWARDED, UrlState.ILLEGAL]):
            far = url_site.get(url.url)
            referred = PoliceReferral.objects.filter(reported_url=url).exists()
            forwarded = Forward.objects.filter(sender_url=url, sent_at__isnull=False).exists()
            if far is not None and far.notified_at is None and (referred or forwarded):
                far.notified_at = now
                kind = world.current(far).kind
                delay = _delay("slow" if kind == "ignoring" else kind, rng, hour, day) or day
                far.remove_due = now + delay
                far.own_delay = delay
                done_urls.add(url.pk)
        # The admin approves contacts found by RDAP; the analyst resolves cases whose
        # hoster changed, then works the queue.
        for contact in AbuseContact.objects.filter(
            hotline=hotline, approved_at__isnull=True, merged_into__isnull=True
        ).exclude(email=""):
            do_approve_contact(contact, actor=admin)
        if now >= person.next_free:
            for case in TakedownCase.objects.filter(hotline=hotline, state=CaseState.ATTENTION):
                try:
                    do_resolve_attention(case, actor=analyst)
                except Exception:  # noqa: BLE001, S112 - the trace may not know the new hoster yet
                    continue
            waiting = (
                ReportedUrl.objects.filter(hotline=hotline, state=UrlState.AWAITING_ASSESSMENT)
                .order_by("created_at")
                .first()
            )
            if waiting is not None:
                items = list(MediaItem.objects.filter(url_links__reported_url=waiting).distinct())
                if all(item.is_hashed() for item in items) and _matched(items, queues):
                    took = time.monotonic()
                    do_claim_url(waiting, analyst)
                    decided = set(
                        ItemStatus.objects.filter(
                            hotline=hotline, media_item__in=items
                        ).values_list("media_item_id", flat=True)
                    )
                    think = person.think_url
                    for item in items:
                        if item.pk in decided:
                            continue  # pre-classified by a trusted hash match: not looked at
                        do_count_reveal(analyst, session, item.code, step="grey")
                        do_record_media_view(analyst, item, step="grey", purpose="revealed")
                        person.revealed += 1
                        think += person.think_item
                        do_classify_item(
                            hotline, item, "baseline", analyst=analyst, reported_url=waiting
                        )
                    do_finish_url(waiting, analyst, site_type="image_host")
                    spent = time.monotonic() - took + think
                    analyst_seconds[waiting.pk] = spent
                    person.busy_seconds += spent
                    person.urls += 1
                    person.next_free = time.monotonic() + think
            # The four-eyes rule: a senior looks at each new item and confirms it.
            for status in ItemStatus.objects.filter(
                hotline=hotline, review_state=ReviewState.AWAITING_CONFIRMATION
            ).select_related("media_item")[:5]:
                took = time.monotonic()
                item = status.media_item
                do_count_reveal(senior, senior_session, item.code, step="grey")
                do_record_media_view(senior, item, step="grey", purpose="revealed")
                do_confirm_item(status, senior, agree=True)
                spent = time.monotonic() - took + person.think_item
                person.busy_seconds += spent
                person.confirm_seconds += spent
                person.next_free = time.monotonic() + person.think_item
        if worker_dead():
            raise SystemExit("the worker died; see worker.log")
        if sent >= args.reports and now > arrivals_end and _settled(world, hotline, url_site):
            break
        time.sleep(0.05)

    return measure(
        Run(
            args=args,
            world=world,
            hotline=hotline,
            url_site=url_site,
            start=start,
            finished=time.monotonic(),
            wall=time.time() - time.monotonic(),
            analyst=person,
            analyst_seconds=analyst_seconds,
            misdirected=misdirected,
            emails=emails,
            partner_reports=partner_reports,
            public_reports=public_reports,
            duplicates=duplicates,
            load_start=load_start,
        )
    )


def worker_dead() -> bool:
    proc = _WORKER.get("proc")
    return proc is not None and proc.poll() is not None


def _delay(kind: str, rng: random.Random, hour: float, day: float) -> float | None:
    """The hoster's own time to take a site down after it is told, in real seconds."""
    if kind == "responsive":
        return rng.uniform(1, 12) * hour
    if kind == "slow":
        return rng.uniform(1, 6) * day
    return None  # ignoring: only an escalation moves it


def _matched(items: list[Any], broker: Any) -> bool:
    """Matching has had its turn at every hashed item, as the review screen shows it: an
    item with a match is pre-classified by then; one without waits until the media
    queue (hashing, then matching) has nothing left, so a known item is not taken for
    a new one only because the worker is behind."""
    from openhotline.matching.models import Match

    pending = [i for i in items if not Match.objects.filter(media_item=i).exists()]
    if not pending:
        return True
    # An empty queue may still have its last task running: a few seconds more.
    return broker.llen("media") == 0 and all(
        time.time() - i.updated_at.timestamp() > 3.0 for i in pending
    )


def _url_rows(hotline: Any) -> dict[str, Any]:
    from openhotline.reports.models import ReportedUrl

    return {u.url: u for u in ReportedUrl.objects.filter(hotline=hotline)}


def _settled(world: World, hotline: Any, url_site: dict[str, Site]) -> bool:
    """Nothing is left to happen: every site is removed and detected, or with a peer."""
    from openhotline.reports.models import UrlState

    rows = _url_rows(hotline)
    with world.lock:
        for address, site in url_site.items():
            row = rows.get(address)
            if row is None or row.state in PRE_ASSESSMENT:
                return False
            if row.state == UrlState.FORWARDED:
                continue
            if site.removed_at is None or row.removed_at is None:
                return False
    return True


@dataclass
class Run:
    args: argparse.Namespace
    world: World
    hotline: Any
    url_site: dict[str, Site]
    start: float
    finished: float
    wall: float  # time.time() − time.monotonic(): monotonic instants to datetimes
    analyst: Analyst
    analyst_seconds: dict[int, float]
    misdirected: list[str]
    emails: Counter[str]
    partner_reports: int
    public_reports: int
    duplicates: int
    load_start: tuple[float, float, float]


def _s(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def _summary(values: list[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else None,
    }


def measure(run: Run) -> dict[str, Any]:  # noqa: C901, PLR0912, PLR0915
    """Every figure, read from the rows the system wrote and from what the hosters saw."""
    from django.conf import settings

    from openhotline.audit.models import AuditEvent
    from openhotline.network.models import Forward, PoliceReferral, ReferralChannel
    from openhotline.reports.models import UrlState
    from openhotline.stats.models import ItemFact
    from openhotline.takedown.models import Notice, NoticeKind, NoticeState, Recheck, TakedownCase

    args, day = run.args, run.args.day_seconds
    batch = settings.OPENHOTLINE_NOTICE_BATCH_MINUTES * 60
    confirm = settings.OPENHOTLINE_RECHECK_CONFIRM_MINUTES * 60
    recheck = settings.OPENHOTLINE_RECHECK_HOURS * 3600
    escalate = settings.OPENHOTLINE_NOTICE_ESCALATE_DAYS * 86400
    removal_checks = settings.OPENHOTLINE_REMOVAL_CHECKS
    sweep = settings.OPENHOTLINE_RECHECK_SWEEP_SECONDS
    now = datetime.fromtimestamp(run.finished + run.wall, tz=UTC)

    def at(instant: float) -> datetime:
        return datetime.fromtimestamp(instant + run.wall, tz=UTC)

    rows = _url_rows(run.hotline)
    notice_sys: dict[str, list[float]] = {"in_country": [], "foreign": []}
    referral_sys: dict[str, list[float]] = {"in_country": [], "foreign": []}
    holds: list[float] = []
    removal_days: list[float] = []
    own_days: list[float] = []
    detection_lag: list[float] = []
    detected = eligible = 0
    stuck: list[str] = []
    for address, site in run.url_site.items():
        url = rows.get(address)
        if url is None:
            stuck.append(f"{address}: never filed")
            continue
        where = "in_country" if url.hosting_country == HOME else "foreign"
        crawl = (
            url.crawl_runs.filter(finished_at__isnull=False)
            .order_by("finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        assessment = getattr(url, "assessment", None)
        in_force = assessment.in_force_at if assessment is not None else None
        to_crawl = _s(crawl, url.created_at)
        case = TakedownCase.objects.filter(reported_url=url).first()
        first_out: datetime | None = None
        hold = 0.0
        if case is not None and case.first_notice_at is not None:
            first_out = case.first_notice_at
            if case.not_before is not None and in_force is not None:
                hold = max(0.0, (case.not_before - in_force).total_seconds())
                holds.append(hold)
        forward = (
            Forward.objects.filter(sender_url=url, sent_at__isnull=False)
            .order_by("sent_at")
            .values_list("sent_at", flat=True)
            .first()
        )
        first_out = first_out or forward
        after = _s(first_out, in_force)
        if to_crawl is not None and after is not None:
            notice_sys[where].append(to_crawl + after - hold)
        referral = (
            PoliceReferral.objects.filter(reported_url=url)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        after = _s(referral, in_force)
        if to_crawl is not None and after is not None:
            referral_sys[where].append(to_crawl + after)
        if url.removed_at is not None:
            removal_days.append((url.removed_at - url.created_at).total_seconds() / day)
        if site.own_delay is not None:
            own_days.append(site.own_delay / day)
        # Correctness: a removal older than the checks that confirm it must be seen.
        if site.removed_at is not None and case is not None:
            # A check runs at the first sweep after it is due: the sweep period counts.
            step = max(confirm, sweep)
            allowed = recheck + sweep + (removal_checks + 1) * step + 60
            if url.removed_at is not None:
                eligible += 1
                detected += 1
                detection_lag.append((url.removed_at - at(site.removed_at)).total_seconds())
            elif (now - at(site.removed_at)).total_seconds() > allowed:
                eligible += 1
                stuck.append(
                    f"{address}: removed by its hoster, not detected after {allowed:.0f} s"
                )
        # Nothing past its policy time.
        if url.state in PRE_ASSESSMENT[:2] and (now - url.created_at).total_seconds() > 180:
            stuck.append(f"{address}: not crawled 180 s after the report")
        if (
            case is not None
            and case.notify
            and in_force is not None
            and case.first_notice_at is None
            and case.state not in ("removed", "closed", "attention")
            and case.contact is not None
            and case.contact.resolved().is_usable()
            and (now - max(in_force, case.not_before or in_force)).total_seconds() > 3 * batch + 60
        ):
            stuck.append(f"{address}: no notice {3 * batch + 60:.0f} s after the verdict")
        if (
            case is not None
            and case.state == "notified"
            and case.contact_notified_at is not None
            and site.removed_at is None
            and (now - case.contact_notified_at).total_seconds() > escalate + 3 * batch + 60
        ):
            stuck.append(f"{address}: online, not escalated after {escalate:.0f} s")

    items = ItemFact.objects.filter(hotline=run.hotline)
    total = items.count()
    known = items.filter(known=True).count()
    hidden = items.filter(revealed=False).count()
    known_hidden = items.filter(known=True, revealed=False).count()
    notices = Notice.objects.filter(hotline=run.hotline, state=NoticeState.SENT)
    per_hoster = Counter(notices.filter(kind=NoticeKind.NOTICE).values_list("recipient", flat=True))
    removed_cases = TakedownCase.objects.filter(hotline=run.hotline, state="removed").count()
    rechecks = Recheck.objects.filter(case__hotline=run.hotline).count()
    within = {
        d: (sum(1 for v in removal_days if v <= d) / len(removal_days) if removal_days else None)
        for d in (1, 3, 7)
    }
    own_within = {
        d: (sum(1 for v in own_days if v <= d) / len(own_days) if own_days else None)
        for d in (1, 3, 7)
    }
    seconds = list(run.analyst_seconds.values())
    elapsed = run.finished - run.start
    # The beat's own work: only its sweeps send notices and queue re-checks here.
    first_sent = notices.order_by("sent_at").values_list("sent_at", flat=True).first()
    first_check = (
        Recheck.objects.filter(case__hotline=run.hotline)
        .order_by("checked_at")
        .values_list("checked_at", flat=True)
        .first()
    )
    window = args.minutes * 60 * args.arrival_share  # the reports arrive in it
    result: dict[str, Any] = {
        # Other people's work on the machine counts: the 1-minute load when the
        # reports began and when the run ended, 5-minute and 15-minute beside.
        "load_average_start": [round(v, 2) for v in run.load_start],
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
        "reports": args.reports,
        "hosters": args.hosters,
        "seed": args.seed,
        "day_seconds": day,
        "run_seconds": round(elapsed, 1),
        "simulated_days": round(elapsed / day, 2),
        "reports_per_simulated_day": round(args.reports / (window / day), 1),
        "reports_per_real_day": round(args.reports / window * 86400),
        "partner_reports": run.partner_reports,
        "public_reports": run.public_reports,
        "duplicate_reports": run.duplicates,
        "urls": len(run.url_site),
        "notice_batch_seconds": round(batch, 2),
        "notice_s_in_country": _summary(notice_sys["in_country"]),
        "notice_s_foreign": _summary(notice_sys["foreign"]),
        "referral_s_in_country": _summary(referral_sys["in_country"]),
        "referral_s_foreign": _summary(referral_sys["foreign"]),
        "notice_p95_s_in_country": percentile(notice_sys["in_country"], 0.95),
        "hold_s": _summary(holds),
        "removed_urls": len(removal_days),
        "removal_days": _summary(removal_days),
        "hoster_own_delay_days": _summary(own_days),
        "removed_within_days": {str(d): v for d, v in within.items()},
        "hoster_own_within_days": {str(d): v for d, v in own_within.items()},
        "removal_detection_lag_s": _summary(detection_lag),
        "items": total,
        "known_items": known,
        "never_revealed_share": hidden / total if total else None,
        "known_never_revealed_share": known_hidden / known if known else None,
        "reveal_audit_entries": AuditEvent.objects.filter(action="media.revealed").count(),
        "analyst_seconds_per_url": sum(seconds) / len(seconds) if seconds else None,
        "urls_assessed": len(seconds),
        "notices_sent": sum(per_hoster.values()),
        "notices_per_hoster": dict(sorted(per_hoster.items())),
        "urls_per_notice": (
            notices.filter(kind=NoticeKind.NOTICE).values("lines").count()
            / sum(per_hoster.values())
            if per_hoster
            else None
        ),
        "escalations_sent": notices.filter(kind=NoticeKind.ESCALATION).count(),
        "forwards_sent": Forward.objects.filter(sent_at__isnull=False).count(),
        "interpol_referrals": PoliceReferral.objects.filter(
            channel=ReferralChannel.INTERPOL
        ).count(),
        "national_referrals": PoliceReferral.objects.filter(
            channel=ReferralChannel.NATIONAL
        ).count(),
        "rechecks": rechecks,
        "first_notice_after_s": _s(first_sent, at(run.start)),
        "first_recheck_after_s": _s(first_check, at(run.start)),
        "rechecks_per_removal": rechecks / removed_cases if removed_cases else None,
        "emails_received_by_domain": dict(sorted(run.emails.items())),
        "emails_sent": sum(run.emails.values()),
        "moved_sites": sum(1 for s in run.url_site.values() if s.moved),
        "removals_followed": eligible,
        "removals_detected_share": detected / eligible if eligible else None,
        "misdirected_notices": len(run.misdirected),
        "misdirected": run.misdirected[:10],
        "stuck": len(stuck),
        "stuck_examples": stuck[:10],
        "forwarded_urls": sum(1 for u in rows.values() if u.state == UrlState.FORWARDED),
        "url_states": dict(Counter(u.state for u in rows.values())),
    }
    return result


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}{unit}"
    return f"{value}{unit}"


def print_table(r: dict[str, Any]) -> None:
    """The figures, each with its goal (from issue 17) and whether it is met."""

    def line(label: str, value: str, goal: str = "", ok: bool | None = None) -> None:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"{label:<58} {value:>22}   {goal}{mark}")

    print(
        f"network_sim: {r['reports']} reports, {r['hosters']} hosters, seed {r['seed']}; "
        f"{r['run_seconds']} s real = {r['simulated_days']} simulated days "
        f"(a day is {r['day_seconds']} s); notices batched every {r['notice_batch_seconds']} s"
    )
    print(
        f"machine: {r['cpus']} CPUs, load average {r['load_average_start']} at the start, "
        f"{r['load_average_end']} at the end (1, 5, 15 minutes)"
    )
    print(
        f"arrivals: {r['reports_per_simulated_day']} reports per simulated day, "
        f"{r['reports_per_real_day']} per real day; {r['partner_reports']} partner API, "
        f"{r['public_reports']} public form, {r['duplicate_reports']} repeats"
    )
    print()
    for key, label in (
        ("notice_s_in_country", "system time report → first notice, in-country (s)"),
        ("notice_s_foreign", "system time report → forward, foreign (s)"),
        ("referral_s_in_country", "system time report → police referral, in-country (s)"),
        ("referral_s_foreign", "system time report → INTERPOL referral, foreign (s)"),
    ):
        s = r[key]
        value = f"p50 {_fmt(s['p50'])} p95 {_fmt(s['p95'])} max {_fmt(s['max'])} (n {s['n']})"
        if key == "notice_s_in_country":
            p95 = s["p95"]
            line(label, "", "")
            line("", value, "goal p95 ≤ 300 s", p95 is not None and p95 <= 300)
        else:
            line(label, "")
            line("", value)
    line("police-first hold (s, policy)", f"n {r['hold_s']['n']} max {_fmt(r['hold_s']['max'])}")
    rd, od = r["removal_days"], r["hoster_own_delay_days"]
    line("report → removal (simulated days)", f"p50 {_fmt(rd['p50'])} p95 {_fmt(rd['p95'])}")
    line("hosters' own delays (simulated days)", f"p50 {_fmt(od['p50'])} p95 {_fmt(od['p95'])}")
    for d in ("1", "3", "7"):
        line(
            f"removed within {d} day(s): system / hosters' own",
            f"{_fmt(r['removed_within_days'][d])} / {_fmt(r['hoster_own_within_days'][d])}",
            "INHOPE 2020: 74 % in 3 days" if d == "3" else "",
        )
    line("removal detection lag (s)", f"p50 {_fmt(r['removal_detection_lag_s']['p50'])}")
    line(
        "never shown unblurred: all items",
        _fmt(r["never_revealed_share"]),
    )
    k = r["known_never_revealed_share"]
    line("never shown unblurred: known items", _fmt(k), "goal ≥ 0.85", k is not None and k >= 0.85)
    line("analyst seconds per URL", _fmt(r["analyst_seconds_per_url"]))
    line(
        "notices / escalations / forwards sent",
        f"{r['notices_sent']} / {r['escalations_sent']} / {r['forwards_sent']}",
    )
    line("URLs per notice (grouping)", _fmt(r["urls_per_notice"]))
    line("re-checks per removal", _fmt(r["rechecks_per_removal"]))
    line(
        "beat: first notice / first re-check after the start (s)",
        f"{_fmt(r['first_notice_after_s'])} / {_fmt(r['first_recheck_after_s'])}",
    )
    line("e-mails received by the sink", str(r["emails_sent"]))
    share = r["removals_detected_share"]
    line(
        "removals detected", f"{_fmt(share)} of {r['removals_followed']}", "goal 1.00", share == 1.0
    )
    line(
        "misdirected notices",
        str(r["misdirected_notices"]),
        "goal 0",
        r["misdirected_notices"] == 0,
    )
    line("stuck past their policy time", str(r["stuck"]), "goal 0", r["stuck"] == 0)
    for example in r["stuck_examples"] + r["misdirected"]:
        print(f"  {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reports", type=int, default=60)
    parser.add_argument("--hosters", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=9.0, help="longest real run time")
    parser.add_argument(
        "--day-seconds", type=float, default=30.0, help="real seconds per simulated day"
    )
    parser.add_argument(
        "--recheck-hours", type=float, default=12.0, help="simulated hours between re-checks"
    )
    parser.add_argument(
        "--arrival-share", type=float, default=0.3, help="share of the run reports arrive in"
    )
    parser.add_argument("--home-share", type=float, default=0.5)
    parser.add_argument("--known-share", type=float, default=0.6)
    parser.add_argument("--duplicate-share", type=float, default=0.1)
    parser.add_argument("--partner-share", type=float, default=0.6)
    parser.add_argument("--move-share", type=float, default=0.1)
    parser.add_argument("--think-url", type=float, default=0.2, help="analyst seconds per URL")
    parser.add_argument(
        "--think-item", type=float, default=0.3, help="analyst seconds per item revealed"
    )
    parser.add_argument(
        "--police-first-hours",
        type=float,
        default=2.0,
        help="simulated hours a notice in the hotline's country waits after the referral",
    )
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--worker-loglevel", default="WARNING", help="INFO logs every task the beat sends"
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workdir", default="", help="keep the data and worker.log here")
    args = parser.parse_args(argv)
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=False)
        result = run(args, Path(args.workdir))
    else:
        with tempfile.TemporaryDirectory(prefix="network-sim-") as tmp:
            result = run(args, Path(tmp))
    print_table(result)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
