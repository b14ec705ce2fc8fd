"""HTTP Message Signatures (RFC 9421) on every request between installations.

Signing and verifying are the ``http-message-signatures`` library's; this
module only fixes the profile (docs/federation.md, *Signatures*):

- algorithm ``ed25519``, label ``ohfed``, tag ``openhotline-federation``;
- covered: ``@method``, ``@path``, ``@query``, ``content-digest`` (RFC 9530,
  SHA-256 of the body, also of an empty one) and ``openhotline-recipient``
  (the key id of the installation the request is for, so a request to one
  peer cannot be played to another);
- parameters: ``created``, ``keyid`` (the sender's key id), ``nonce``
  (random, once per request), ``alg``, ``tag``.

A request is refused (``Refusal``) when unsigned, signed by an unknown key,
badly signed, for another recipient, created more than the allowed age ago
or ahead of our clock by more than that, or carrying a nonce already seen.

Answers are signed too (``sign_answer``, tag ``openhotline-federation-answer``),
over ``@status``, ``content-digest`` and the request's own signature
(``"signature";req;key="ohfed"``, RFC 9421 section 2.4). The request's
signature covers its nonce, so an answer cannot be passed off as the answer
to another request. The caller checks it with ``verify_answer``.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from openhotline.federation.identity import Identity, identity, parse_public_key
from openhotline.federation.models import Peer, SeenNonce

LABEL = "ohfed"
TAG = "openhotline-federation"
RECIPIENT_HEADER = "openhotline-recipient"
COVERED = ("@method", "@path", "@query", "content-digest", RECIPIENT_HEADER)
ANSWER_TAG = "openhotline-federation-answer"
ANSWER_COVERED = ('"@status"', '"content-digest"', f'"signature";req;key="{LABEL}"')


@dataclass
class Message:
    """What the library reads of a request: method, absolute URL, headers."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Answer:
    """What the library reads of an answer: its status, headers and the request it answers."""

    status_code: int
    request: Message
    headers: dict[str, str] = field(default_factory=dict)


class Refusal(Exception):
    """A request refused; ``status`` is 401, 403 or 429, ``reason`` a short word for the audit."""

    def __init__(self, status: int, reason: str, peer: Peer | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.peer = peer


class _OwnKey(HTTPSignatureKeyResolver):
    def __init__(self, mine: Identity | None = None) -> None:
        self.mine = mine

    def resolve_private_key(self, key_id: str) -> Any:
        mine = self.mine or identity()
        if key_id != mine.key_id:
            raise KeyError(key_id)
        return mine.private

    def resolve_public_key(self, key_id: str) -> Any:
        return None


class _PeerKeys(HTTPSignatureKeyResolver):
    """Resolves a key id to the peer's public key, remembering which peer it was."""

    def __init__(self) -> None:
        self.peer: Peer | None = None

    def resolve_public_key(self, key_id: str) -> Any:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        peer = Peer.objects.filter(key_id=key_id).first()
        if peer is None:
            return None
        self.peer = peer
        return Ed25519PublicKey.from_public_bytes(parse_public_key(peer.public_key))

    def resolve_private_key(self, key_id: str) -> Any:
        raise KeyError(key_id)


def sign(
    message: Message,
    body: bytes,
    *,
    recipient_key_id: str,
    created: datetime.datetime | None = None,
) -> None:
    """Add Content-Digest, Signature-Input and Signature to ``message.headers``."""
    message.headers[RECIPIENT_HEADER] = recipient_key_id
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_OwnKey())
    signer.sign(
        message,
        key_id=identity().key_id,
        created=created or timezone.now(),
        nonce=secrets.token_urlsafe(24),
        label=LABEL,
        tag=TAG,
        covered_component_ids=COVERED,
        body=body,
    )


def verify(message: Message, body: bytes) -> Peer:
    """The peer that signed ``message``; ``Refusal`` when it may not be taken.

    1. Unsigned, unknown key, bad signature or digest, too old or too new: 401.
    2. Signed for another installation: 401.
    3. A paused or removed peer: 403.
    4. A nonce seen before (kept past the age limit): 401.
    5. More requests this minute than the peer may make: 429.
    """
    headers = {k.lower(): v for k, v in message.headers.items()}
    if "signature-input" not in headers or "signature" not in headers:
        raise Refusal(401, "unsigned")
    keys = _PeerKeys()
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=keys)
    window = datetime.timedelta(seconds=settings.OPENHOTLINE_FEDERATION_MAX_AGE_SECONDS)
    verifier.max_clock_skew = window
    try:
        results = verifier.verify(
            message, max_age=window, expect_tag=TAG, require_components=COVERED, body=body
        )
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        reason = "unknown key" if keys.peer is None and "resolve" in str(exc) else "bad signature"
        raise Refusal(401, reason, keys.peer) from None
    peer = keys.peer
    if peer is None or len(results) != 1:
        raise Refusal(401, "unknown key")
    if headers.get(RECIPIENT_HEADER) != identity().key_id:
        raise Refusal(401, "wrong recipient", peer)
    if not peer.is_active():
        raise Refusal(403, f"peer {peer.state}", peer)
    nonce = results[0].nonce
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64:
        raise Refusal(401, "no nonce", peer)
    try:
        with transaction.atomic():
            SeenNonce.objects.create(peer=peer, nonce=nonce)
    except IntegrityError:
        raise Refusal(401, "replayed", peer) from None
    minute_ago = timezone.now() - datetime.timedelta(seconds=60)
    recent = SeenNonce.objects.filter(peer=peer, created_at__gte=minute_ago).count()
    if recent > settings.OPENHOTLINE_FEDERATION_RATE_PER_MINUTE:
        raise Refusal(429, "rate limited", peer)
    return peer


def sign_answer(answer: Answer, body: bytes, *, me: Identity | None = None) -> None:
    """Sign an answer to a verified request (``answer.request``) in place.

    ``me`` is the identity that answers; this installation's by default.
    """
    mine = me or identity()
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_OwnKey(mine))
    signer.sign(
        answer,
        key_id=mine.key_id,
        created=timezone.now(),
        nonce=secrets.token_urlsafe(24),
        label=LABEL,
        tag=ANSWER_TAG,
        covered_component_ids=ANSWER_COVERED,
        body=body,
    )


class _OnePeer(HTTPSignatureKeyResolver):
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    def resolve_public_key(self, key_id: str) -> Any:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        if key_id != self.peer.key_id:
            return None
        return Ed25519PublicKey.from_public_bytes(parse_public_key(self.peer.public_key))

    def resolve_private_key(self, key_id: str) -> Any:
        raise KeyError(key_id)


def verify_answer(answer: Answer, body: bytes, peer: Peer) -> None:
    """Check that ``peer`` signed this answer to our request; ``Refusal`` otherwise.

    The signature must be the peer's (not another peer's), cover the status,
    the body's digest and our request's signature, and be fresh.
    """
    headers = {k.lower(): v for k, v in answer.headers.items()}
    if "signature-input" not in headers or "signature" not in headers:
        raise Refusal(401, "unsigned answer", peer)
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519, key_resolver=_OnePeer(peer)
    )
    window = datetime.timedelta(seconds=settings.OPENHOTLINE_FEDERATION_MAX_AGE_SECONDS)
    verifier.max_clock_skew = window
    try:
        results = verifier.verify(
            answer,
            max_age=window,
            expect_tag=ANSWER_TAG,
            require_components=ANSWER_COVERED,
            body=body,
        )
    except (InvalidSignature, HTTPMessageSignaturesException):
        raise Refusal(401, "bad answer signature", peer) from None
    if len(results) != 1 or results[0].parameters.get("keyid") != peer.key_id:
        raise Refusal(401, "bad answer signature", peer)
