"""Keys of intake, all derived from one secret (``OPENHOTLINE_INTAKE_KEY``).

Three unrelated uses get three unrelated keys (HKDF with a different label
each), so a leak of one (say, a rate-limit hash) says nothing about another:

- the AES-256-GCM key encrypting reporters' e-mail addresses;
- the key of the daily keys that hash reporters' addresses for rate limiting;
- the key ring of the store holding imported e-mail messages.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from openhotline.lib.blobcrypto import KeyRing

_EMAIL_VERSION = b"\x01"
_NONCE_SIZE = 12
MAIL_KEY_ID = "intake-1"


class DecryptionError(ValueError):
    """A stored ciphertext does not decrypt with this installation's key."""


@functools.lru_cache(maxsize=16)
def _derive(secret: str, label: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode())
    return hkdf.derive(secret.encode())


def derived_key(label: str) -> bytes:
    """The 32-byte key for one use, derived from the configured secret."""
    return _derive(str(settings.OPENHOTLINE_INTAKE_KEY), f"openhotline intake {label}")


def encrypt_email(address: str, *, context: str) -> bytes:
    """Encrypt an address; ``context`` (the report code) binds it to its report."""
    nonce = os.urandom(_NONCE_SIZE)
    sealed = AESGCM(derived_key("reporter email")).encrypt(
        nonce, address.encode(), context.encode()
    )
    return _EMAIL_VERSION + nonce + sealed


def decrypt_email(ciphertext: bytes, *, context: str) -> str:
    data = bytes(ciphertext)
    if data[:1] != _EMAIL_VERSION or len(data) < 1 + _NONCE_SIZE + 16:
        raise DecryptionError("not an encrypted reporter address")
    nonce, sealed = data[1 : 1 + _NONCE_SIZE], data[1 + _NONCE_SIZE :]
    try:
        plain = AESGCM(derived_key("reporter email")).decrypt(nonce, sealed, context.encode())
    except Exception as exc:  # InvalidTag: wrong key, wrong report, or altered
        raise DecryptionError("the reporter address does not decrypt") from exc
    return plain.decode()


def source_hash(address: str, *, now: datetime) -> str:
    """A keyed hash of a sender's address that changes every (UTC) day.

    1. Derive today's key from the rate-limit key and the date, so yesterday's
       hashes cannot be compared with today's.
    2. HMAC the address with it. Without the secret the hash cannot be
       reversed by trying all four billion IPv4 addresses.
    """
    day_key = hmac.new(
        derived_key("rate limit"), now.date().isoformat().encode(), hashlib.sha256
    ).digest()
    return hmac.new(day_key, address.encode(), hashlib.sha256).hexdigest()


def mail_keyring() -> KeyRing:
    """The key ring of the store of imported e-mail messages."""
    return KeyRing(
        {MAIL_KEY_ID: derived_key("mail evidence")}, MAIL_KEY_ID, derived_key("mail names")
    )
