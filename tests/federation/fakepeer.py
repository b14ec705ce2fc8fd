"""A peer's inbox on loopback that records what it is sent and answers as told.

Its answers are signed as the German test peer's (``PEER_SECRET``) unless
``signer`` says otherwise (another secret, or None: unsigned).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from openhotline.federation.identity import identity_of
from openhotline.federation.signing import Answer, Message, sign_answer

PEER_SECRET = "the German installation's secret, for tests only"


class FakePeer:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.failing: set[str] = set()  # message ids answered with 500
        self.delay = 0.0
        self.signer: str | None = PEER_SECRET
        self.get_answers: list[dict[str, Any]] = []  # answered to GETs, in order
        self.get_paths: list[str] = []
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
                self._answer(500 if fail else 200, data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                with peer.lock:
                    peer.get_paths.append(self.path)
                    answer = peer.get_answers.pop(0) if peer.get_answers else {"ok": False}
                self._answer(200 if answer.get("ok") else 404, json.dumps(answer).encode())

            def _answer(self, status: int, data: bytes) -> None:
                self.send_response(status)
                request = Message(self.command, "http://federation.invalid" + self.path, {})
                request.headers = dict(self.headers.items())
                answer = Answer(status, request)
                if peer.signer is not None:
                    sign_answer(answer, data, me=identity_of(peer.signer))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
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
