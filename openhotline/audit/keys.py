"""The audit log's two secrets: the event key and the checkpoint key.

The event key is an HMAC-SHA256 key: every event's hash is keyed with it,
so someone who can write to the database and has the code, but not the
key, cannot make an edited chain verify again.

The checkpoint key signs checkpoints with Ed25519. It is a separate secret
(leaking one does not forge the other), and a signature can be checked with
the public key alone, so an outside party who keeps a copy of the
checkpoint file can check it without being able to write new checkpoints.

Both come from settings (``env_secret``: the environment, a ``_FILE``, or a
file generated under ``<data>/secrets`` outside production). Each key has a
short id, stored with every event and every checkpoint, so that a key can be
rotated later without guessing which key made what.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings


@dataclass(frozen=True)
class EventKey:
    key_id: str
    secret: bytes


@dataclass(frozen=True)
class CheckpointKey:
    key_id: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_bytes(self) -> bytes:
        return self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@lru_cache(maxsize=8)
def _event_key(value: str) -> EventKey:
    secret = value.encode()
    key_id = hashlib.sha256(b"openhotline audit event key id\0" + secret).hexdigest()[:16]
    return EventKey(key_id, secret)


@lru_cache(maxsize=8)
def _checkpoint_key(value: str) -> CheckpointKey:
    # The secret is any string (as env_secret generates or an operator supplies);
    # the Ed25519 seed is derived from it so no key format needs to be written by hand.
    seed = hashlib.sha256(b"openhotline audit checkpoint key\0" + value.encode()).digest()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return CheckpointKey(hashlib.sha256(public).hexdigest()[:16], private)


def event_key() -> EventKey:
    """The key that new events are hashed with."""
    return _event_key(settings.OPENHOTLINE_AUDIT_KEY)


def checkpoint_key() -> CheckpointKey:
    """The key that new checkpoints are signed with."""
    return _checkpoint_key(settings.OPENHOTLINE_AUDIT_CHECKPOINT_KEY)
