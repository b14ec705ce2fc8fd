"""The RPZ and Unbound exports loaded by a real Unbound, and the stop page they point at.

What the issue of overblocking asks (issue 19): a URL entry on a mixed host
leaves the host resolving normally; a dedicated domain and the names below it
lead to the stop page; a whole host leads there and its siblings do not.

Unbound runs on 127.0.0.1 with its own configuration in a temporary directory.
Every query it cannot answer from the RPZ goes to a tiny authoritative server
of this test (``forward-zone "."``), so nothing leaves the machine.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rrset
import pytest
from django.core.management import call_command

from openhotline.accounts.models import Organisation
from tests.conftest import missing_service
from tests.support.services import (
    free_port,
    kill_group,
    openhotline_env,
    start_openhotline,
    wait_for_port,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ZONE = "rpz.hotline.test"
# What the local authoritative server knows: the names that are not blocked.
STUB_RECORDS = {
    "allowed.test.": "192.0.2.10",
    "images.mixed.test.": "192.0.2.11",
    "stop.hotline.test.": "127.0.0.1",
    "whole.test.": "192.0.2.13",
    "gallery.shared.test.": "192.0.2.14",
    "other.shared.test.": "192.0.2.15",
    "sub.gallery.shared.test.": "192.0.2.16",
}


@contextmanager
def stub_server() -> Iterator[int]:
    """A UDP authoritative server for the names in STUB_RECORDS; NXDOMAIN for others."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text().lower()
            address = STUB_RECORDS.get(name)
            if address is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A:
                response.answer.append(dns.rrset.from_text(name, 60, "IN", "A", address))
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


@contextmanager
def unbound(workdir: Path, zone_file: Path, stub_port: int, fmt: str = "rpz") -> Iterator[int]:
    """Unbound loading ``zone_file`` as an RPZ zone, or ``include:``d local zones."""
    binary = shutil.which("unbound") or (
        "/usr/sbin/unbound" if Path("/usr/sbin/unbound").exists() else None
    )
    if binary is None:
        missing_service("unbound (Debian package unbound)")
    port = free_port()
    config = workdir / "unbound.conf"
    if fmt == "rpz":
        modules, include = "respip iterator", ""
        rpz = f'rpz:\n    name: "{ZONE}."\n    zonefile: "{zone_file}"'
    else:
        modules, include, rpz = "iterator", f'    include: "{zone_file}"', ""
    config.write_text(
        f"""server:
    interface: 127.0.0.1
    port: {port}
    outgoing-interface: 127.0.0.1
    do-ip6: no
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "{workdir}"
    pidfile: ""
    logfile: ""
    use-syslog: no
    verbosity: 1
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "{modules}"
    local-zone: "test." nodefault
    qname-minimisation: no
{include}
remote-control:
    control-enable: no
{rpz}
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{stub_port}
"""
    )
    assert binary is not None
    check = subprocess.run(
        [binary + "-checkconf", str(config)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    log = (workdir / "unbound.log").open("wb")
    proc = subprocess.Popen([binary, "-d", "-c", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                dns.query.udp(dns.message.make_query("allowed.test.", "A"), "127.0.0.1", 1, port)
                break
            except (dns.exception.Timeout, ConnectionRefusedError):
                assert proc.poll() is None, (workdir / "unbound.log").read_text()
        else:
            pytest.fail("unbound did not answer: " + (workdir / "unbound.log").read_text())
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def resolve(port: int, name: str) -> tuple[str, list[str]]:
    answer = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", timeout=3, port=port)
    addresses = [r.to_text() for rrset in answer.answer for r in rrset if rrset.rdtype == 1]
    return dns.rcode.to_text(answer.rcode()), addresses


def export_rpz(tmp_path: Path, action: str, fmt: str = "rpz") -> Path:
    out = tmp_path / f"{action}.{fmt}"
    call_command(
        "blocklist",
        "export",
        "--hotline",
        "hotline-a",
        "--format",
        fmt,
        "--action",
        action,
        "--out",
        str(out),
    )
    return out


@pytest.fixture
def live_list(published, settings) -> None:
    settings.OPENHOTLINE_STOPPAGE_ADDRESSES = ["127.0.0.1"]
    settings.OPENHOTLINE_RPZ_ZONE = ZONE
    published(
        urls=["http://images.mixed.test/x/1.jpg"],
        domains=["whole.test"],
        hosts=["gallery.shared.test"],
    )


@pytest.mark.parametrize("fmt", ["rpz", "unbound"])
def test_unbound_sends_only_names_blocked_whole_to_the_stop_page(
    live_list: None, hotline_a: Organisation, hotline_b: Organisation, tmp_path: Path, fmt: str
) -> None:
    zone = export_rpz(tmp_path, "local-data", fmt)
    assert "1 URL-level entries left out" in zone.read_text()
    with stub_server() as stub_port, unbound(tmp_path, zone, stub_port, fmt) as port:
        # A URL entry on a mixed host: the host resolves normally.
        assert resolve(port, "images.mixed.test.") == ("NOERROR", ["192.0.2.11"])
        # A dedicated domain: the name and every name below it.
        assert resolve(port, "whole.test.") == ("NOERROR", ["127.0.0.1"])
        assert resolve(port, "deep.sub.whole.test.") == ("NOERROR", ["127.0.0.1"])
        # A whole host: that name only; its sibling and the names below it resolve.
        assert resolve(port, "gallery.shared.test.") == ("NOERROR", ["127.0.0.1"])
        assert resolve(port, "other.shared.test.") == ("NOERROR", ["192.0.2.15"])
        assert resolve(port, "sub.gallery.shared.test.") == ("NOERROR", ["192.0.2.16"])
        assert resolve(port, "allowed.test.") == ("NOERROR", ["192.0.2.10"])
        assert resolve(port, "unknown.test.")[0] == "NXDOMAIN"

        _rcode, (address,) = resolve(port, "gallery.shared.test.")
        stop_port = free_port()
        # Two hotlines and no --hotline: the blocked name chooses the hotline.
        env = openhotline_env(
            tmp_path / "data", OPENHOTLINE_PUBLIC_BASE_URL="https://hotline-a.test"
        )
        proc = start_openhotline(
            ["stoppage", "--listen", f"127.0.0.1:{stop_port}"], env, tmp_path / "stoppage.log"
        )
        try:
            assert wait_for_port(stop_port, timeout=30), (tmp_path / "stoppage.log").read_text()
            for name in ("gallery.shared.test", "cdn.whole.test"):
                connection = http.client.HTTPConnection(address, stop_port, timeout=10)
                connection.request(
                    "GET", "/gallery/1", headers={"Host": name, "Accept-Language": "en"}
                )
                response = connection.getresponse()
                body = response.read().decode()
                assert response.status == 451
                assert response.getheader("Link") == '<https://hotline-a.test/>; rel="blocked-by"'
                assert name in body and "illegal" in body and hotline_a.name in body
                assert hotline_b.name not in body
        finally:
            kill_group(proc)
        # No access log: the visitor's address appears nowhere in the server's output.
        assert "GET /gallery/1" not in (tmp_path / "stoppage.log").read_text()


def test_unbound_answers_nxdomain_when_the_setting_says_so(live_list: None, tmp_path: Path) -> None:
    zone = export_rpz(tmp_path, "nxdomain")
    with stub_server() as stub_port, unbound(tmp_path, zone, stub_port) as port:
        assert resolve(port, "gallery.shared.test.")[0] == "NXDOMAIN"
        assert resolve(port, "x.whole.test.")[0] == "NXDOMAIN"
        assert resolve(port, "images.mixed.test.") == ("NOERROR", ["192.0.2.11"])
        assert resolve(port, "other.shared.test.") == ("NOERROR", ["192.0.2.15"])
        assert resolve(port, "allowed.test.") == ("NOERROR", ["192.0.2.10"])


def test_unbound_follows_a_cname_to_the_stop_page_host(
    live_list: None, tmp_path: Path, settings
) -> None:
    settings.OPENHOTLINE_STOPPAGE_HOST = "stop.hotline.test"
    zone = export_rpz(tmp_path, "cname")
    with stub_server() as stub_port, unbound(tmp_path, zone, stub_port) as port:
        assert resolve(port, "whole.test.") == ("NOERROR", ["127.0.0.1"])
        assert resolve(port, "allowed.test.") == ("NOERROR", ["192.0.2.10"])
