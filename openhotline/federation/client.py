"""Signed HTTP requests to a peer (urllib3; no redirects, a bounded answer).

A peer's base URL is set by an administrator (``openhotline peer add``), so it
is not checked against private addresses as a crawled URL is; it may well be
on a private network.

A successful answer counts only when the peer signed it, for this request
(``signing.verify_answer``); one that is unsigned or badly signed is
refused like an error, and audited.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urljoin

import urllib3
from django.conf import settings

from openhotline.audit.log import record
from openhotline.federation.models import Peer
from openhotline.federation.signing import Answer, Message, Refusal, sign, verify_answer

MAX_ANSWER_BYTES = 20 * 1024 * 1024
_pool = urllib3.PoolManager(retries=False)


class PeerError(Exception):
    """The peer could not be reached, or answered with an error (``status`` 0: not reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def call(
    peer: Peer,
    method: str,
    path: str,
    payload: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Send a signed request to ``peer`` and return its JSON answer; ``PeerError`` otherwise."""
    url = urljoin(peer.base_url.rstrip("/") + "/", path.lstrip("/"))
    if query:
        url += "?" + urlencode(query)
    body = b"" if payload is None else json.dumps(payload, sort_keys=True).encode()
    message = Message(method=method, url=url, headers={"content-type": "application/json"})
    sign(message, body, recipient_key_id=peer.key_id)
    try:
        response = _pool.request(
            method,
            url,
            body=body or None,
            headers=message.headers,
            timeout=urllib3.Timeout(total=settings.OPENHOTLINE_FEDERATION_TIMEOUT_SECONDS),
            redirect=False,
            preload_content=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise PeerError(f"not reached: {exc}") from None
    try:
        data = response.read(MAX_ANSWER_BYTES + 1)
    finally:
        response.release_conn()
    if len(data) > MAX_ANSWER_BYTES:
        raise PeerError("answer too large", response.status)
    if response.status != 200:
        raise PeerError(
            f"HTTP {response.status}: {data[:200].decode(errors='replace')}", response.status
        )
    answer_headers = {k: v for k, v in response.headers.items()}
    try:
        verify_answer(Answer(response.status, message, answer_headers), data, peer)
    except Refusal as refusal:
        record(
            "federation.answer_refused",
            obj=peer,
            detail={"reason": refusal.reason, "peer": peer.name, "path": path[:200]},
        )
        raise PeerError(f"answer refused: {refusal.reason}", response.status) from None
    try:
        answer = json.loads(data)
    except ValueError:
        raise PeerError("answer is not JSON", response.status) from None
    if not isinstance(answer, dict):
        raise PeerError("answer is not a JSON object", response.status)
    return answer
