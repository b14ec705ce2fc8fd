"""Safe fetching: address checks (pure), and behaviour against hostile loopback servers.

Only 127.0.0.1 is allowed and served; 127.0.0.2 stands for every refused
address and no connection is ever made to it.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import ipaddress
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openhotline.lib.netcheck import address_refusal, parse_allow_list
from openhotline.lib.safehttp import (
    FetchConnectError,
    FetchPolicy,
    FetchProtocolError,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    FetchTooManyRedirects,
    SafeFetcher,
    fetch,
)
from tests.support.loopback import LoopbackServer, reply, serve

LOOPBACK_ONLY = parse_allow_list("127.0.0.1")


def policy(**kwargs: object) -> FetchPolicy:
    return FetchPolicy(allow=LOOPBACK_ONLY, **kwargs)  # type: ignore[arg-type]


# --- the address check, as a pure function: no traffic -----------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.10", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.20", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
        ("::", "unspecified"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("240.0.0.1", "private"),  # reserved class E: Python files it under private
        ("255.255.255.255", "private"),
        ("198.18.0.1", "private"),
        ("192.0.2.1", "private"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:10.0.0.1", "IPv4-mapped"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),
        ("64:ff9b::a00:1", "embedding 10.0.0.1"),
        ("2002:a9fe:a9fe::1", "embedding 169.254.169.254"),
        ("::127.0.0.1", "reserved"),
        ("fec0::1", "site-local"),
    ],
)
def test_address_check_refuses_internal_ranges(address: str, reason: str) -> None:
    refusal = address_refusal(address)
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "1.1.1.1"]
)
def test_address_check_accepts_public_addresses(address: str) -> None:
    assert address_refusal(address) is None


def test_allow_list_lets_only_chosen_addresses_through() -> None:
    allow = parse_allow_list(" 127.0.0.1 , 10.20.0.0/16,,::1")
    assert address_refusal("127.0.0.1", allow) is None
    assert address_refusal("10.20.3.4", allow) is None
    assert address_refusal("::1", allow) is None
    assert address_refusal("127.0.0.2", allow) == "a loopback address"
    assert address_refusal("10.21.0.1", allow) == "a private address"
    assert address_refusal(ipaddress.ip_address("169.254.169.254"), allow) is not None


def test_allow_list_rejects_a_malformed_entry() -> None:
    with pytest.raises(ValueError, match="10.0.0.300"):
        parse_allow_list("127.0.0.1,10.0.0.300")


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.test/x", "gopher://example.test/", "javascript:1"],
)
def test_it_refuses_non_http_schemes(url: str) -> None:
    with pytest.raises(FetchRefused, match="not http or https"):
        fetch(url, policy())


def test_it_refuses_onion_addresses_without_a_proxy() -> None:
    with pytest.raises(FetchRefused, match=r"\.onion.*no proxy"):
        fetch("http://abcdefghijklmnop.onion/", policy())


def test_it_refuses_a_refused_address_given_directly() -> None:
    with pytest.raises(FetchRefused, match="127.0.0.2 is a loopback address"):
        fetch("http://127.0.0.2:9/", policy())


# --- behaviour against loopback servers -------------------------------------


def ok_page(handler: BaseHTTPRequestHandler) -> None:
    reply(handler, b"<!doctype html><title>ok</title>")


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve({"/": ok_page}) as srv:
        yield srv


def test_it_fetches_and_records_the_evidence(server: LoopbackServer) -> None:
    result = fetch(server.url("/"), policy())
    assert result.status == 200
    assert result.body == b"<!doctype html><title>ok</title>"
    assert result.final_url == server.url("/")
    assert result.address == "127.0.0.1"
    assert result.header("content-type") == "text/html; charset=utf-8"
    assert result.mime == "text/html"
    assert result.started_at is not None and result.started_at.tzinfo is not None
    assert 0 < result.elapsed < 5
    assert not result.truncated and result.error is None
    assert server.requests[0][1]["user-agent"].startswith("openhotline")


def test_it_refuses_a_redirect_to_a_refused_address(server: LoopbackServer) -> None:
    target = f"http://127.0.0.2:{server.port}/"
    server.routes["/r"] = lambda h: reply(h, status=302, headers={"Location": target})
    with pytest.raises(FetchRefused, match="127.0.0.2 is a loopback address") as info:
        fetch(server.url("/r"), policy())
    assert info.value.url == target
    assert "after a redirect from" in str(info.value)
    assert [hop.url for hop in info.value.redirects] == [server.url("/r")]
    assert [path for path, _ in server.requests] == ["/r"]


def test_it_refuses_a_name_whose_dns_answer_is_refused(server: LoopbackServer) -> None:
    answers = {"evil.test": ["127.0.0.2"], "mixed.test": ["127.0.0.1", "10.9.8.7"]}
    pol = policy(resolver=lambda host, port: answers[host])
    with pytest.raises(FetchRefused, match="evil.test resolves to 127.0.0.2"):
        fetch(f"http://evil.test:{server.port}/", pol)
    with pytest.raises(FetchRefused, match="10.9.8.7, which is a private address"):
        fetch(f"http://mixed.test:{server.port}/", pol)
    assert server.requests == []


def test_it_refuses_a_redirect_to_a_name_resolving_to_private(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openhotline.lib.safehttp as safehttp

    monkeypatch.setattr(safehttp, "resolve_host", lambda host, port: ["192.168.1.1"])
    server.routes["/r"] = lambda h: reply(
        h, status=301, headers={"Location": "http://intranet.test/admin"}
    )
    with pytest.raises(FetchRefused, match="intranet.test resolves to 192.168.1.1"):
        fetch(server.url("/r"), policy())


def test_it_connects_to_the_checked_address_not_a_second_lookup(server: LoopbackServer) -> None:
    # DNS rebinding: the first answer passes the check, later ones point inside.
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["127.0.0.2"]

    result = fetch(f"http://rebind.test:{server.port}/", policy(resolver=rebinding))
    assert result.status == 200 and result.address == "127.0.0.1"
    assert calls == ["rebind.test"]
    assert server.requests[0][1]["host"] == f"rebind.test:{server.port}"


def test_it_follows_redirects_and_records_the_chain(server: LoopbackServer) -> None:
    server.routes["/a"] = lambda h: reply(h, status=301, headers={"Location": "/b"})
    server.routes["/b"] = lambda h: reply(h, status=307, headers={"Location": server.url("/")})
    result = fetch(server.url("/a"), policy())
    assert result.final_url == server.url("/")
    assert [(hop.url, hop.status, hop.location) for hop in result.redirects] == [
        (server.url("/a"), 301, server.url("/b")),
        (server.url("/b"), 307, server.url("/")),
    ]


def test_it_stops_a_redirect_loop(server: LoopbackServer) -> None:
    server.routes["/loop"] = lambda h: reply(h, status=302, headers={"Location": "/loop?x"})
    with pytest.raises(FetchTooManyRedirects, match="more than 4 redirects"):
        fetch(server.url("/loop"), policy(max_redirects=4))
    assert len(server.requests) == 5


def drip(handler: BaseHTTPRequestHandler, data: bytes, pause: float) -> None:
    for i in range(len(data)):
        handler.wfile.write(data[i : i + 1])
        handler.wfile.flush()
        time.sleep(pause)


def test_a_slow_drip_body_is_cut_at_the_deadline(server: LoopbackServer) -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        drip(h, b"x" * 1000, 0.02)  # 20 s in all, each byte well inside the read timeout

    server.routes["/slow"] = slow
    started = time.monotonic()
    result = fetch(server.url("/slow"), policy(deadline=1.0, read_timeout=5))
    assert time.monotonic() - started < 2.5
    assert isinstance(result.error, FetchTimeout)
    assert result.truncated and 0 < len(result.body) < 1000


def test_slow_drip_headers_time_out_at_the_deadline(server: LoopbackServer) -> None:
    server.routes["/slowhead"] = lambda h: drip(h, b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 50, 0.05)
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="deadline"):
        fetch(server.url("/slowhead"), policy(deadline=1.0, read_timeout=5))
    assert time.monotonic() - started < 2.5


def test_a_silent_server_times_out(server: LoopbackServer) -> None:
    server.routes["/silent"] = lambda h: time.sleep(3)
    with pytest.raises(FetchTimeout):
        fetch(server.url("/silent"), policy(read_timeout=0.5))


def test_size_limit_counts_bytes_received_without_content_length(server: LoopbackServer) -> None:
    def unframed(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        for _ in range(64):
            h.wfile.write(b"A" * 16384)
        h.close_connection = True

    server.routes["/big"] = unframed
    result = fetch(server.url("/big"), policy(max_bytes=100_000))
    assert isinstance(result.error, FetchTooLarge)
    assert result.truncated and len(result.body) == 100_000
    assert result.bytes_received >= 100_000


def test_a_huge_content_length_claim_is_not_trusted(server: LoopbackServer) -> None:
    def claim(h: BaseHTTPRequestHandler) -> None:
        reply(h, b"C" * 2000, length=10**12, content_type="text/plain")
        h.close_connection = True

    server.routes["/claim"] = claim
    result = fetch(server.url("/claim"), policy(max_bytes=50_000))
    assert isinstance(result.error, FetchProtocolError)
    assert result.body == b"C" * 2000


def test_a_truncated_download_is_flagged(server: LoopbackServer) -> None:
    def cut(h: BaseHTTPRequestHandler) -> None:
        reply(h, b"\x89PNG\r\n\x1a\n" + b"p" * 492, length=1000, content_type="image/png")
        h.close_connection = True

    server.routes["/cut"] = cut
    result = fetch(server.url("/cut"), policy())
    assert result.truncated
    assert isinstance(result.error, FetchProtocolError)
    assert len(result.body) == 500 and result.mime == "image/png"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", lambda data: brotli.compress(data, quality=4)),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data), quality=4)),
    ],
)
def test_compression_bombs_stop_at_the_decoded_limit(
    server: LoopbackServer, encoding: str, compress: object
) -> None:
    bomb = compress(b"\0" * (64 * 1024 * 1024))  # type: ignore[operator]
    assert len(bomb) < 1024 * 1024
    server.routes["/bomb"] = lambda h: reply(h, bomb, headers={"Content-Encoding": encoding})
    limits = policy(max_decoded_bytes=2 * 1024 * 1024, max_decode_ratio=0)
    result = fetch(server.url("/bomb"), limits)
    assert isinstance(result.error, FetchTooLarge)
    assert "decoded" in str(result.error)
    assert result.body == b"\0" * (2 * 1024 * 1024)  # the part within the limit is kept


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("br", lambda data: brotli.compress(data, quality=4)),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data), quality=4)),
    ],
)
def test_compression_bombs_stop_once_they_inflate_past_the_ratio(
    server: LoopbackServer, encoding: str, compress: object
) -> None:
    bomb = compress(b"\0" * (64 * 1024 * 1024))  # type: ignore[operator]
    server.routes["/bomb"] = lambda h: reply(h, bomb, headers={"Content-Encoding": encoding})

    result = fetch(server.url("/bomb"), policy(max_decode_ratio=100))

    assert isinstance(result.error, FetchTooLarge) and result.truncated
    assert "decompression bomb" in str(result.error) and "more than 100:1" in str(result.error)
    # Far under the 50 MiB decoded limit: past the first MiB, at most 100 bytes per
    # byte received (plus one 64 KiB decoding step).
    assert len(result.body) <= max(1 << 20, 100 * result.bytes_received) + 64 * 1024


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "identity"])
def test_compressed_bodies_are_decoded(server: LoopbackServer, encoding: str) -> None:
    page = b"<html>" + b"hello " * 5000 + b"</html>"
    packed = {
        "gzip": gzip.compress,
        "deflate": lambda d: zlib.compress(d)[2:-4],  # raw deflate, as some servers send
        "br": brotli.compress,
        "identity": bytes,
    }[encoding](page)
    server.routes["/z"] = lambda h: reply(h, packed, headers={"Content-Encoding": encoding})
    result = fetch(server.url("/z"), policy())
    assert result.error is None and result.body == page
    assert result.bytes_received == len(packed)


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def test_content_type_comes_from_the_bytes_not_the_header(server: LoopbackServer) -> None:
    png = png_header(1, 1) + b"\0" * 50
    server.routes["/lies"] = lambda h: reply(h, png, content_type="text/html")
    server.routes["/none"] = lambda h: reply(h, b"GIF89a" + b"\0" * 20, content_type=None)
    lying = fetch(server.url("/lies"), policy())
    assert lying.mime == "image/png" and lying.content_type == "text/html"
    missing = fetch(server.url("/none"), policy())
    assert missing.mime == "image/gif" and missing.content_type is None


def test_an_image_bomb_is_fetched_within_the_size_limit(server: LoopbackServer) -> None:
    bomb = png_header(100_000, 100_000) + zlib.compress(b"\0" * 4_000_000)
    server.routes["/bomb.png"] = lambda h: reply(h, bomb, content_type="image/png")
    whole = fetch(server.url("/bomb.png"), policy())
    assert whole.error is None and whole.body == bomb and whole.mime == "image/png"
    cut = fetch(server.url("/bomb.png"), policy(max_bytes=1000))
    assert isinstance(cut.error, FetchTooLarge) and len(cut.body) == 1000


def test_connections_are_reused_between_requests(server: LoopbackServer) -> None:
    peers: set[object] = set()

    def note_peer(h: BaseHTTPRequestHandler) -> None:
        peers.add(h.client_address)
        reply(h, b"x")

    server.routes["/peer"] = note_peer
    with SafeFetcher(policy()) as fetcher:
        for _ in range(5):
            assert fetcher.fetch(server.url("/peer")).body == b"x"
    assert len(peers) == 1


# --- TLS on loopback, with a certificate made here ---------------------------


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(tz=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[LoopbackServer, bytes, list[str], Path]]:
    cert_path, key_path, der = self_signed(tmp_path, "secure.test")
    seen_sni: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)

    def note_sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        seen_sni.append(name or "")

    context.sni_callback = note_sni
    srv = LoopbackServer({"/": ok_page})
    srv.httpd.socket = context.wrap_socket(srv.httpd.socket, server_side=True)
    thread = threading.Thread(target=srv.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield srv, der, seen_sni, cert_path
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


def test_tls_checks_certificates_and_sends_sni_for_the_name(
    tls_server: tuple[LoopbackServer, bytes, list[str], Path],
) -> None:
    srv, der, seen_sni, cert_path = tls_server
    resolver = lambda host, port: ["127.0.0.1"]  # noqa: E731
    url = f"https://secure.test:{srv.port}/"
    with pytest.raises(FetchConnectError, match="TLS"):
        fetch(url, policy(resolver=resolver))
    trusted = fetch(url, policy(resolver=resolver, ca_certs=str(cert_path)))
    assert trusted.status == 200 and trusted.tls is not None and trusted.tls.verified
    assert "secure.test" in seen_sni
    assert srv.requests[-1][1]["host"] == f"secure.test:{srv.port}"


def test_unverified_tls_records_the_peer_certificate(
    tls_server: tuple[LoopbackServer, bytes, list[str], Path],
) -> None:
    srv, der, _, _ = tls_server
    result = fetch(
        f"https://secure.test:{srv.port}/",
        policy(resolver=lambda host, port: ["127.0.0.1"], verify_tls=False),
    )
    assert result.status == 200 and result.tls is not None
    assert not result.tls.verified
    assert result.tls.cert_der == der
    assert result.tls.cert_sha256 == hashlib.sha256(der).hexdigest()


# --- a SOCKS5 proxy on loopback: the Tor set-up for .onion ---------------------


def socks5_proxy(routes: dict[str, tuple[str, int]], asked: list[str]) -> socket.socket:
    """A minimal SOCKS5 (no auth, CONNECT) proxy mapping names to loopback ports."""
    listener = socket.create_server(("127.0.0.1", 0))

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            dst.close()

    def handle(client: socket.socket) -> None:
        client.recv(3)
        client.sendall(b"\x05\x00")
        head = client.recv(4)
        if head[3] == 3:
            name = client.recv(client.recv(1)[0]).decode()
        else:
            name = socket.inet_ntoa(client.recv(4))
        port = struct.unpack(">H", client.recv(2))[0]
        asked.append(f"{name}:{port}")
        upstream = socket.create_connection(routes.get(name, (name, port)))
        client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + b"\0\0")
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def test_onion_urls_go_through_the_socks_proxy_by_name(server: LoopbackServer) -> None:
    asked: list[str] = []
    onion = "exampleonionaddressxyz.onion"
    proxy = socks5_proxy({onion: ("127.0.0.1", server.port)}, asked)
    try:
        port = proxy.getsockname()[1]
        result = fetch(f"http://{onion}/", policy(proxy=f"socks5h://127.0.0.1:{port}"))
        assert result.status == 200 and result.via_proxy is not None
        assert asked == [f"{onion}:80"]
        assert server.requests[0][1]["host"] == onion
        # Other names are still resolved and checked here, and the proxy gets the address.
        pol = policy(proxy=f"socks5://127.0.0.1:{port}", resolver=lambda h, p: ["127.0.0.1"])
        assert fetch(f"http://site.test:{server.port}/", pol).status == 200
        assert asked[-1] == f"127.0.0.1:{server.port}"
        with pytest.raises(FetchRefused):
            fetch(
                "http://inside.test/", policy(proxy=pol.proxy, resolver=lambda h, p: ["10.0.0.1"])
            )
    finally:
        proxy.close()


def http_proxy(asked: list[str]) -> socket.socket:
    """A minimal forward proxy for absolute-form plain-http requests."""
    listener = socket.create_server(("127.0.0.1", 0))

    def handle(client: socket.socket) -> None:
        with client, client.makefile("rb") as rfile:
            request_line = rfile.readline().decode()
            while rfile.readline() not in (b"\r\n", b""):
                pass
            method, target, _ = request_line.split()
            asked.append(f"{method} {target}")
            parts = urlsplit(target)
            with socket.create_connection((parts.hostname, parts.port or 80)) as upstream:
                upstream.sendall(
                    f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                while data := upstream.recv(65536):
                    client.sendall(data)

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def test_plain_http_goes_through_an_http_proxy_to_the_checked_address(
    server: LoopbackServer,
) -> None:
    asked: list[str] = []
    proxy = http_proxy(asked)
    try:
        pol = policy(
            proxy=f"http://127.0.0.1:{proxy.getsockname()[1]}",
            resolver=lambda host, port: ["127.0.0.1"],
        )
        result = fetch(f"http://site.test:{server.port}/", pol)
        assert result.status == 200 and result.body.startswith(b"<!doctype html>")
        assert asked == [f"GET http://127.0.0.1:{server.port}/"]
        with pytest.raises(FetchRefused):
            fetch(
                "http://inside.test/", policy(proxy=pol.proxy, resolver=lambda h, p: ["10.0.0.1"])
            )
        assert len(asked) == 1
    finally:
        proxy.close()


def test_a_refused_connection_is_a_connect_error_not_a_timeout() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more: the connection is refused at once.
    with pytest.raises(FetchConnectError, match="cannot connect"):
        fetch(f"http://127.0.0.1:{port}/", policy())
