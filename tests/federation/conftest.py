"""Fixtures of the federation tests: a second identity to play the peer, and signed requests.

This installation runs hotlines A (DK) and B (NL) (tests/conftest.py). The
peer is a German installation ("Hotline DE"), whose identity is derived from
another secret: ``as_peer`` switches the setting while signing, as if the
request came from there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings

from openhotline.federation.actions.peers import do_add_peer
from openhotline.federation.identity import identity
from openhotline.federation.models import Peer
from openhotline.federation.signing import Message, sign
from tests.federation.fakepeer import PEER_SECRET

# The network tests' fixtures: an evidence store per test (autouse), and classifying a page.
from tests.network.conftest import assess, network_settings  # noqa: F401

OTHER_SECRET = "a third installation's secret, for tests only"


@contextmanager
def as_installation(secret: str) -> Iterator[None]:
    with override_settings(OPENHOTLINE_FEDERATION_KEY=secret):
        yield


def public_key_of(secret: str) -> str:
    with as_installation(secret):
        return identity().public_text


@pytest.fixture
def peer_de(db: Any) -> Peer:
    return do_add_peer(
        "http://127.0.0.1:9/", public_key_of(PEER_SECRET), "DE", "Hotline DE installation"
    )


def signed_headers(
    method: str,
    path: str,
    body: bytes,
    *,
    secret: str = PEER_SECRET,
    recipient: str | None = None,
) -> dict[str, Any]:
    """The headers a peer with ``secret`` sends with this request, for Django's test client."""
    to = recipient or identity().key_id
    message = Message(method=method, url=f"http://testserver{path}", headers={})
    with as_installation(secret):
        sign(message, body, recipient_key_id=to)
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in message.headers.items()}


def post_signed(
    client: Client, path: str, payload: Any, *, secret: str = PEER_SECRET, **extra: Any
) -> Any:
    body = json.dumps(payload).encode()
    headers = signed_headers("POST", path, body, secret=secret)
    headers.update(extra)
    return client.generic("POST", path, body, content_type="application/json", **headers)


def get_signed(client: Client, path: str, *, secret: str = PEER_SECRET) -> Any:
    return client.get(path, **signed_headers("GET", path, b"", secret=secret))
