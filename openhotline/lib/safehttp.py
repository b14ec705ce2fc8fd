"""The only way openhotline talks HTTP to the outside world.

Everything fetched comes from reported, hostile pages, so every request is:
resolved once and connected to the very address that was checked (no DNS
rebinding window), refused for internal ranges (see `netcheck`), re-checked
after every redirect (followed here, never by the library), bounded in bytes
received, decoded bytes, connect time and total time (a watchdog shuts the
socket when the deadline passes, so a slow-drip server cannot hold a worker).

Built on urllib3: a pool per (host, checked address) whose connections dial
the address while TLS SNI, certificate checks and the Host header use the name.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
import warnings
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import brotli
import socks
import urllib3
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import InsecureRequestWarning
from urllib3.util import Timeout, make_headers, parse_url

from openhotline.lib.fetchguard import Deadline, guarded_pool_class, start_deadline
from openhotline.lib.httpbody import (
    BodyDecoder,
    DecodeLimitExceeded,
    DecodeRatioExceeded,
    sniff_mime,
)
from openhotline.lib.netcheck import IPNetwork, address_refusal, resolve_host

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_MAX_POOLS = 64


class FetchError(Exception):
    """A fetch failed; `url` is the URL being fetched when it did."""

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.redirects: list[RedirectHop] = []  # hops followed before the failure


class FetchRefused(FetchError):
    """The URL, its scheme or the address it resolves to is not allowed."""


class FetchTimeout(FetchError):
    """Connect timeout, idle read timeout or the total deadline passed."""


class FetchTooLarge(FetchError):
    """More bytes were received (or decoded) than the policy allows."""


class FetchTooManyRedirects(FetchError):
    """The redirect limit was reached (this includes redirect loops)."""


class FetchConnectError(FetchError):
    """No connection could be made (name not found, refused, reset)."""


class FetchProtocolError(FetchError):
    """The server broke HTTP: malformed response, or a body cut short."""


class FetchDecodeError(FetchError):
    """The Content-Encoding stream (gzip, deflate, brotli) is corrupt."""


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and egress settings for one kind of fetch (page, media, RDAP…).

    `allow` comes from OPENHOTLINE_FETCH_ALLOW via `netcheck.parse_allow_list`.
    `proxy` is "http://host:port", "socks5://…", "socks5h://…" or "socks4://…".
    With a proxy, names are still resolved and checked here and the proxy is
    asked for the checked address (so a proxy inside the hotline's network
    cannot be steered at it), unless `proxy_resolves_names` (for Tor, where
    local lookups would leak); `.onion` names always go to the proxy. Plain
    http through an http proxy then names the address, not the host, in the
    request line; virtual hosts that need the name want `proxy_resolves_names`.
    """

    allow: tuple[IPNetwork, ...] = ()
    max_bytes: int = 20 * 1024 * 1024
    max_decoded_bytes: int = 50 * 1024 * 1024
    # Decoded bytes per received byte (past 1 MiB decoded) before a body is a
    # decompression bomb; 0 turns the guard off. See httpbody.BodyDecoder.
    max_decode_ratio: int = 100
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_redirects: int = 10
    user_agent: str = "openhotline-crawler/0.1 (+https://github.com/openhotline)"
    proxy: str | None = None
    proxy_resolves_names: bool = False
    verify_tls: bool = True
    ca_certs: str | None = None
    pool_maxsize: int = 32
    resolver: Callable[[str, int], list[str]] | None = None


@dataclass(frozen=True)
class RedirectHop:
    """One redirect answered on the way to the final URL."""

    url: str
    status: int
    location: str
    address: str | None


@dataclass(frozen=True)
class TlsInfo:
    """The certificate the server showed, kept because it is evidence."""

    verified: bool
    cert_der: bytes | None
    cert_sha256: str | None
    version: str | None


@dataclass
class FetchResult:
    """What came back. A cut-short body still returns, with `truncated` and `error`."""

    url: str
    final_url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    redirects: list[RedirectHop] = field(default_factory=list)
    address: str | None = None
    via_proxy: str | None = None
    tls: TlsInfo | None = None
    started_at: datetime | None = None
    elapsed: float = 0.0
    bytes_received: int = 0
    truncated: bool = False
    error: FetchError | None = None
    mime: str = "application/octet-stream"

    def header(self, name: str) -> str | None:
        """First value of header `name` (case-insensitive), or None."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    @property
    def content_type(self) -> str | None:
        """The Content-Type the server claimed (see `mime` for the sniffed one)."""
        return self.header("content-type")


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]  # empty when the proxy resolves the name


class SafeFetcher:
    """Thread-safe fetcher keeping keep-alive pools per (host, checked address)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        self._pools: OrderedDict[tuple[str, str, str, int], HTTPConnectionPool] = OrderedDict()
        self._lock = threading.Lock()
        self._proxy = parse_url(policy.proxy) if policy.proxy else None
        if self._proxy and self._proxy.scheme not in ("http", "socks4", "socks5", "socks5h"):
            raise ValueError(f"unsupported proxy scheme {self._proxy.scheme!r}")
        if not policy.verify_tls:
            # Turned off on purpose; each response then records the certificate instead.
            warnings.filterwarnings("ignore", category=InsecureRequestWarning)

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            pool.close()

    def __enter__(self) -> SafeFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
    ) -> FetchResult:
        """Fetch `url`, following redirects, within the policy's limits.

        Steps:
        1. Start the total deadline (a watchdog shuts the socket when it passes).
        2. For each hop: check the URL and every address its host resolves to,
           then request it from a pool bound to the first checked address.
        3. On a redirect, record the hop and go again with the new URL.
        4. Read the body in chunks, counting bytes received and decoded bytes.
        Raises a FetchError subclass when there is no response to return; a
        body cut short (too large, deadline, dropped) returns with `error` set.
        """
        policy = self.policy
        limit = policy.max_bytes if max_bytes is None else max_bytes
        started_at = datetime.now(tz=UTC)
        t0 = time.monotonic()
        hops: list[RedirectHop] = []
        current = url
        with start_deadline(policy.deadline) as deadline:
            while True:
                try:
                    target = self._check(current)
                    resp, address = self._send(target, method, headers, deadline)
                except FetchError as exc:
                    if hops:
                        exc.args = (f"{exc} (after a redirect from {hops[-1].url})",)
                    exc.redirects = hops
                    raise
                location = resp.headers.get("location")
                if resp.status in _REDIRECTS and location:
                    resp.close()
                    resp.release_conn()
                    nxt = urljoin(current, location.strip())
                    hops.append(RedirectHop(current, resp.status, nxt, address))
                    if len(hops) > policy.max_redirects:
                        too_many = FetchTooManyRedirects(
                            f"more than {policy.max_redirects} redirects (last {current} -> {nxt})",
                            url,
                        )
                        too_many.redirects = hops
                        raise too_many
                    if resp.status == 303:
                        method = "GET"
                    current = nxt
                    continue
                result = FetchResult(
                    url=url,
                    final_url=current,
                    status=resp.status,
                    headers=list(resp.headers.items()),
                    body=b"",
                    redirects=hops,
                    address=address,
                    via_proxy=policy.proxy,
                    tls=_tls_info(resp, policy.verify_tls),
                    started_at=started_at,
                )
                self._read_body(resp, result, limit, deadline, method)
                result.elapsed = time.monotonic() - t0
                result.mime = sniff_mime(result.body)
                return result

    def _check(self, url: str) -> _Target:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchRefused(f"scheme {scheme or '(none)'!r} is not http or https", url)
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise FetchRefused("URL has no host", url)
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise FetchRefused(f"bad port: {exc}", url) from exc
        onion = host.endswith(".onion")
        if onion and not self._proxy:
            raise FetchRefused(f"{host} is a Tor .onion address and no proxy is configured", url)
        if self._proxy and (onion or self.policy.proxy_resolves_names) and not _is_ip(host):
            return _Target(url, scheme, host, port, ())
        try:
            resolver = self.policy.resolver or resolve_host
            addresses = [host] if _is_ip(host) else resolver(host, port)
        except OSError as exc:
            raise FetchConnectError(f"cannot resolve {host}: {exc}", url) from exc
        if not addresses:
            raise FetchConnectError(f"{host} has no address", url)
        for address in addresses:
            reason = address_refusal(address, self.policy.allow)
            if reason is not None:
                what = host if address == host else f"{host} resolves to {address}, which"
                raise FetchRefused(f"{what} is {reason}", url)
        return _Target(url, scheme, host, port, tuple(addresses))

    def _send(
        self,
        target: _Target,
        method: str,
        extra: Mapping[str, str] | None,
        deadline: Deadline,
    ) -> tuple[urllib3.BaseHTTPResponse, str | None]:
        policy = self.policy
        default_port = 443 if target.scheme == "https" else 80
        host_header = f"[{target.host}]" if ":" in target.host else target.host
        if target.port != default_port:
            host_header += f":{target.port}"
        headers = {
            "Host": host_header,
            "User-Agent": policy.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate, br",
            **(extra or {}),
        }
        split = urlsplit(target.url)
        path = (split.path or "/") + (f"?{split.query}" if split.query else "")
        last_error: Exception | None = None
        for address in target.addresses or (None,):
            remaining = deadline.remaining()
            if remaining <= 0:
                break
            timeout = Timeout(
                connect=min(policy.connect_timeout, remaining),
                read=min(policy.read_timeout, remaining),
            )
            pool = self._pool(target, address)
            dial = address or target.host
            # A plain-http request through an http proxy names the target in the path.
            req = path
            if self._proxy and self._proxy.scheme == "http" and target.scheme == "http":
                req = f"http://{_bracket(dial)}:{target.port}{path}"
            try:
                resp = pool.urlopen(
                    method,
                    req,
                    headers=headers,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    decode_content=False,
                    timeout=timeout,
                    assert_same_host=False,
                    release_conn=False,
                )
                if deadline.fired:  # the watchdog cut the headers short
                    resp.close()
                    resp.release_conn()
                    break
                return resp, address
            except urllib3.exceptions.HTTPError as exc:
                last_error = exc
                if deadline.fired or isinstance(exc, urllib3.exceptions.ReadTimeoutError):
                    break
        if deadline.fired or deadline.remaining() <= 0:
            raise FetchTimeout(f"deadline of {policy.deadline:g}s passed", target.url)
        raise _translate(last_error, target.url)

    def _pool(self, target: _Target, address: str | None) -> HTTPConnectionPool:
        key = (target.scheme, target.host, address or "", target.port)
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
        pool = self._new_pool(target, address)
        with self._lock:
            existing = self._pools.get(key)
            if existing is not None:
                pool.close()
                return existing
            self._pools[key] = pool
            evicted = self._pools.popitem(last=False)[1] if len(self._pools) > _MAX_POOLS else None
        if evicted is not None:
            evicted.close()
        return pool

    def _new_pool(self, target: _Target, address: str | None) -> HTTPConnectionPool:
        policy = self.policy
        kw: dict[str, Any] = {"maxsize": policy.pool_maxsize, "block": False, "retries": False}
        tls = target.scheme == "https"
        if tls:
            kw["server_hostname"] = target.host
            if policy.verify_tls:
                kw.update(cert_reqs="CERT_REQUIRED", assert_hostname=target.host)
                kw["ca_certs"] = policy.ca_certs
            else:
                kw.update(cert_reqs="CERT_NONE", assert_hostname=False)
        proxy = self._proxy
        socks_proxy = proxy is not None and (proxy.scheme or "").startswith("socks")
        pool_cls = guarded_pool_class(tls=tls, socks=socks_proxy)
        if proxy is not None and socks_proxy:
            user, _, password = (proxy.auth or "").partition(":")
            version = socks.PROXY_TYPE_SOCKS4 if proxy.scheme == "socks4" else socks.SOCKS5
            kw["_socks_options"] = {
                "socks_version": version,
                "proxy_host": proxy.host,
                "proxy_port": proxy.port or 1080,
                "username": user or None,
                "password": password or None,
                "rdns": address is None,
            }
        elif proxy is not None:
            kw["_proxy"] = proxy
            kw["_proxy_headers"] = make_headers(proxy_basic_auth=proxy.auth) if proxy.auth else {}
            if not tls:
                # Plain http through an http proxy: talk to the proxy, naming the
                # target (the checked address) in the request line.
                return pool_cls(proxy.host or "", proxy.port or 8080, **kw)
        return pool_cls(address or target.host, target.port, **kw)

    def _read_body(
        self,
        resp: urllib3.BaseHTTPResponse,
        result: FetchResult,
        limit: int,
        deadline: Deadline,
        method: str,
    ) -> None:
        decoder = BodyDecoder(
            resp.headers.get("content-encoding"),
            self.policy.max_decoded_bytes,
            self.policy.max_decode_ratio,
        )
        out = bytearray()
        complete = method == "HEAD"
        try:
            while not complete:
                chunk = resp.read1(_CHUNK, decode_content=False)
                if not chunk:
                    if deadline.fired:  # an end of body forced by the watchdog
                        raise FetchTimeout(self._late(), result.final_url)
                    out += decoder.finish()
                    complete = True
                    break
                result.bytes_received += len(chunk)
                if result.bytes_received > limit:
                    keep = len(chunk) - (result.bytes_received - limit)
                    out += decoder.feed(chunk[:keep])
                    raise FetchTooLarge(f"more than {limit} bytes received", result.final_url)
                out += decoder.feed(chunk)
                if deadline.remaining() <= 0:
                    raise FetchTimeout(self._late(), result.final_url)
        except FetchError as exc:
            result.error = exc
        except DecodeRatioExceeded as exc:
            out += exc.partial
            result.error = FetchTooLarge(f"decompression bomb: {exc}", result.final_url)
        except DecodeLimitExceeded as exc:
            out += exc.partial
            result.error = FetchTooLarge(
                f"decoded body larger than {self.policy.max_decoded_bytes} bytes"
                " (decompression bomb?)",
                result.final_url,
            )
        except (zlib.error, brotli.error) as exc:
            result.error = FetchDecodeError(f"corrupt content encoding: {exc}", result.final_url)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if deadline.fired:
                result.error = FetchTimeout(self._late(), result.final_url)
            else:
                result.error = _translate(exc, result.final_url)
        finally:
            if not complete:
                resp.close()
            resp.release_conn()
        result.body = bytes(out)
        result.truncated = not complete

    def _late(self) -> str:
        return f"deadline of {self.policy.deadline:g}s passed while reading the body"


def _translate(exc: Exception | None, url: str) -> FetchError:
    if isinstance(exc, FetchError):
        return exc
    message = str(getattr(exc, "reason", None) or exc)
    # Before the timeouts: urllib3 makes NewConnectionError (e.g. a refused
    # connection) a subclass of ConnectTimeoutError.
    if isinstance(exc, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ProxyError):
        return FetchConnectError(f"cannot connect: {message}", url)
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError | socket.timeout):
        return FetchTimeout(f"timed out: {message}", url)
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return FetchTimeout(f"read timed out: {message}", url)
    if isinstance(exc, urllib3.exceptions.SSLError | ssl.SSLError):
        return FetchConnectError(f"TLS error: {message}", url)
    return FetchProtocolError(f"{type(exc).__name__}: {message}", url)


def _tls_info(resp: urllib3.BaseHTTPResponse, verified: bool) -> TlsInfo | None:
    conn = resp.connection
    sock = getattr(conn, "sock", None)
    if not isinstance(sock, ssl.SSLSocket):
        return None
    der = sock.getpeercert(binary_form=True)
    digest = hashlib.sha256(der).hexdigest() if der else None
    return TlsInfo(verified=verified, cert_der=der, cert_sha256=digest, version=sock.version())


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def fetch(url: str, policy: FetchPolicy, **kwargs: Any) -> FetchResult:
    """One-off fetch with a throwaway `SafeFetcher` (no connection reuse)."""
    with SafeFetcher(policy) as fetcher:
        return fetcher.fetch(url, **kwargs)
