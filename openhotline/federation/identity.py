"""The installation's identity: one Ed25519 key, and the pair keys derived from it.

The private key is derived from ``OPENHOTLINE_FEDERATION_KEY`` (``env_secret``:
the environment, a ``_FILE``, or a file generated under ``<data>/secrets`` on
first start outside production), as the audit checkpoint key is, so no key
file format has to be written by hand.

A peer is known by its public key, written ``ed25519:`` + base64url of the 32
raw bytes (``public_key_text``), and by its key id, the first 16 hex digits of
SHA-256 of those bytes: the ``keyid`` of every signature.

The deconfliction key of a pair of installations needs no extra exchange:
each side turns its Ed25519 key into the X25519 key of the same curve (the
birational map of RFC 7748 section 4.1, as libsodium's
``crypto_sign_ed25519_pk_to_curve25519``), and both get the same shared secret
by X25519; HKDF-SHA256 over it, salted with both public keys in sorted order,
gives the pair's HMAC key.

Media packages are encrypted with age to the requesting installation's
identity as an ``ssh-ed25519`` recipient (age's own conversion of an Ed25519
key to X25519, in ``pyrage``), so a peer's public key is all the sender
needs: no second key to exchange, no conversion written here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

import pyrage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.conf import settings

KEY_PREFIX = "ed25519:"
_P = 2**255 - 19
PAIR_KEY_INFO = b"openhotline federation pair key v1"
URL_TAG_PREFIX = b"openhotline url v1\0"


class PeerKeyError(ValueError):
    """A public key that is not ``ed25519:`` + base64url of 32 bytes."""


@dataclass(frozen=True)
class Identity:
    private: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_text(self) -> str:
        return public_key_text(self.public_bytes)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_bytes)

    def x25519(self) -> X25519PrivateKey:
        # RFC 8032: the Ed25519 scalar is the clamped first half of SHA-512(seed);
        # X25519 clamps again, harmlessly.
        seed = self.private.private_bytes_raw()
        return X25519PrivateKey.from_private_bytes(hashlib.sha512(seed).digest()[:32])

    def age_identity(self) -> pyrage.ssh.Identity:
        """The age identity that opens packages sent to us (our key as OpenSSH ``ssh-ed25519``)."""
        pem = self.private.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
        return pyrage.ssh.Identity.from_buffer(pem)


def age_recipient(raw: bytes) -> pyrage.ssh.Recipient:
    """The age recipient of a peer's Ed25519 public key (age's ``ssh-ed25519`` type)."""
    line = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        Encoding.OpenSSH, PublicFormat.OpenSSH
    )
    return pyrage.ssh.Recipient.from_str(line.decode())


def identity_of(secret: str) -> Identity:
    """The identity a secret gives (``identity()`` is this installation's)."""
    return _identity(secret)


@lru_cache(maxsize=4)
def _identity(secret: str) -> Identity:
    seed = hashlib.sha256(b"openhotline federation identity\0" + secret.encode()).digest()
    return Identity(Ed25519PrivateKey.from_private_bytes(seed))


def identity() -> Identity:
    """This installation's identity."""
    return _identity(settings.OPENHOTLINE_FEDERATION_KEY)


def public_key_text(raw: bytes) -> str:
    return KEY_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_public_key(text: str) -> bytes:
    """The 32 raw bytes of ``ed25519:<base64url>``; ``PeerKeyError`` when it is not one."""
    text = text.strip()
    if not text.startswith(KEY_PREFIX):
        raise PeerKeyError("a peer key starts with 'ed25519:'")
    body = text[len(KEY_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise PeerKeyError("the peer key is not base64url") from None
    if len(raw) != 32:
        raise PeerKeyError("an Ed25519 public key has 32 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(raw)
        ed25519_to_x25519(raw)
    except ValueError:
        raise PeerKeyError("not an Ed25519 public key") from None
    return raw


def key_id_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def ed25519_to_x25519(raw: bytes) -> bytes:
    """The Montgomery u of the Edwards point: u = (1 + y) / (1 - y) mod p."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P or y == 1:
        raise ValueError("not a usable Edwards y coordinate")
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return u.to_bytes(32, "little")


def pair_key(peer_public: bytes) -> bytes:
    """The HMAC key shared with the peer of ``peer_public`` (the same on both sides)."""
    mine = identity()
    shared = mine.x25519().exchange(
        X25519PublicKey.from_public_bytes(ed25519_to_x25519(peer_public))
    )
    salt = b"".join(sorted([mine.public_bytes, peer_public]))
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=PAIR_KEY_INFO).derive(shared)


def url_tag(key: bytes, normalized_url: str) -> str:
    """The keyed hash a deconfliction question carries: HMAC-SHA256, hex."""
    return hmac.new(key, URL_TAG_PREFIX + normalized_url.encode(), hashlib.sha256).hexdigest()
