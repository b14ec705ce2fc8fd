"""A tiny HTTP server on 127.0.0.1 for crawler tests: routes are plain functions.

Tests only ever talk to this server (pytest-socket allows loopback only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


def reply(
    handler: BaseHTTPRequestHandler,
    body: bytes = b"",
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str | None = "text/html; charset=utf-8",
    length: int | None = None,
) -> None:
    """Send a whole response; `length` may lie about the body size on purpose."""
    handler.send_response(status)
    if content_type is not None:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class LoopbackServer:
    """Serves `routes` (path without query, or "prefix*", -> function) on 127.0.0.1."""

    def __init__(self, routes: Mapping[str, Route], host: str = "127.0.0.1") -> None:
        self.routes = dict(routes)
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall on keep-alive

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.route_for(self.path.split("?", 1)[0])
                if route is None:
                    reply(self, b"not found", status=404, content_type="text/plain")
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients hanging up on purpose (deadlines, size limits) are expected

        self.httpd = Server((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = host

    def route_for(self, path: str) -> Route | None:
        """Exact route, else the longest "prefix*" route matching `path`."""
        if path in self.routes:
            return self.routes[path]
        prefixes = [k for k in self.routes if k.endswith("*") and path.startswith(k[:-1])]
        return self.routes[max(prefixes, key=len)] if prefixes else None

    def url(self, path: str = "/", host: str | None = None) -> str:
        """Absolute URL of `path` on this server (optionally under another host name)."""
        return f"http://{host or self.host}:{self.port}{path}"


@contextmanager
def serve(routes: Mapping[str, Route]) -> Iterator[LoopbackServer]:
    """Run a LoopbackServer in a thread for the duration of the block."""
    server = LoopbackServer(routes)
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=5)
