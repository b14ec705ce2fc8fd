"""A peer's inbox on loopback that records what it is sent and answers as told."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakePeer:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.failing: set[str] = set()  # message ids answered with 500
        self.delay = 0.0
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                message = json.loads(self.rfile.read(length))
                time.sleep(peer.delay)
                with peer.lock:
                    peer.received.append(message)
                    peer.headers.append(dict(self.headers.items()))
                fail = message.get("id") in peer.failing
                answer = {"ok": False} if fail else {"ok": True, "duplicate": False}
                data = json.dumps(answer).encode()
                self.send_response(500 if fail else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def ids(self) -> list[str]:
        with self.lock:
            return [m["id"] for m in self.received]


@contextmanager
def fake_peer() -> Iterator[FakePeer]:
    peer = FakePeer()
    peer.thread.start()
    try:
        yield peer
    finally:
        peer.server.shutdown()
        peer.server.server_close()
