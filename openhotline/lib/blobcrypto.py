"""Keys and the encrypted segment format of the evidence store.

Evidence is the most sensitive data a hotline holds, so it is encrypted at rest
and every blob says which key encrypted it (keys are rotated, old blobs remain).
A blob is a header followed by AES-256-GCM segments:

    magic "OHEB" | version (1 byte) | segment size (uint32) | key id length (1 byte)
    | key id (ASCII) | base nonce (12 random bytes)
    then segments of `segment size` plaintext bytes (the last may be shorter), each
    followed by its 16-byte tag.

Segment i uses the nonce `base nonce XOR i`, and its associated data is the whole
header plus i and a "final" flag. So a reader notices a changed header or key id,
segments swapped or dropped, and a blob cut off at a segment boundary, while large
evidence never has to sit in memory whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"OHEB"
VERSION = 1
SEGMENT_SIZE = 1024 * 1024
MAX_SEGMENT_SIZE = 16 * 1024 * 1024
TAG_SIZE = 16
NONCE_SIZE = 12
_KEY_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_FIXED = struct.Struct(">4sBIB")
# The longest header: the fixed part, a 255-byte key id and the nonce.
MAX_HEADER_SIZE = _FIXED.size + 255 + NONCE_SIZE

Reader = Callable[[int], bytes]


class BlobError(Exception):
    """Base class of evidence store errors."""


class BlobIntegrityError(BlobError):
    """The blob was altered, truncated, or encrypted with a different key of that id."""


class UnknownKeyError(BlobError):
    """The blob names a key id that the key ring does not hold."""


class KeyRing:
    """Named AES-256 keys, the id of the one new blobs use, and the key naming blobs.

    The name key is kept apart from the encryption keys: blob names must stay the
    same through rotations, or every reference in the database would change.
    """

    def __init__(self, keys: Mapping[str, bytes], current: str, name_key: bytes) -> None:
        for key_id, key in keys.items():
            if not _KEY_ID_RE.fullmatch(key_id):
                raise ValueError(f"Key id {key_id!r} must be 1-64 of A-Z a-z 0-9 . _ -")
            if len(key) != 32:
                raise ValueError(f"Key {key_id!r} must be 32 bytes, not {len(key)}")
        if current not in keys:
            raise ValueError(f"The current key {current!r} is not in the key ring")
        if len(name_key) < 32:
            raise ValueError("The name key must be at least 32 bytes")
        self._keys = dict(keys)
        self.current = current
        self._name_key = bytes(name_key)

    @classmethod
    def generate(cls, key_id: str = "k1") -> KeyRing:
        """A fresh key ring with one random key, for new installations and tests."""
        return cls({key_id: os.urandom(32)}, key_id, os.urandom(32))

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        """Read a key file: {"current": id, "name_key": b64, "keys": {id: b64, ...}}."""
        try:
            data = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            name_key = base64.b64decode(data["name_key"], validate=True)
            current = str(data["current"])
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise ValueError(f"The key file is not valid: {exc}") from exc
        return cls(keys, current, name_key)

    def to_json(self) -> str:
        return json.dumps(
            {
                "current": self.current,
                "name_key": base64.b64encode(self._name_key).decode(),
                "keys": {k: base64.b64encode(v).decode() for k, v in self._keys.items()},
            },
            indent=2,
        )

    def with_key(self, key_id: str, key: bytes, *, make_current: bool = True) -> KeyRing:
        """A copy holding one more key, the first step of a rotation."""
        keys = {**self._keys, key_id: key}
        return KeyRing(keys, key_id if make_current else self.current, self._name_key)

    def without_key(self, key_id: str) -> KeyRing:
        """A copy without a retired key, the last step of a rotation."""
        if key_id == self.current:
            raise ValueError("The current key cannot be removed")
        keys = {k: v for k, v in self._keys.items() if k != key_id}
        return KeyRing(keys, self.current, self._name_key)

    def key(self, key_id: str) -> bytes:
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownKeyError(f"The key ring has no key {key_id!r}") from None

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def name_for(self, sha256_hex: str) -> str:
        """The blob name of content with this SHA-256: a keyed HMAC, never the hash itself.

        Someone who can list the store cannot then test it for known files.
        """
        digest = bytes.fromhex(sha256_hex)
        return hmac.new(self._name_key, digest, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Header:
    version: int
    segment_size: int
    key_id: str
    base_nonce: bytes

    def encode(self) -> bytes:
        key_id = self.key_id.encode("ascii")
        fixed = _FIXED.pack(MAGIC, self.version, self.segment_size, len(key_id))
        return fixed + key_id + self.base_nonce


def new_header(key_id: str, segment_size: int = SEGMENT_SIZE) -> Header:
    if not 1 <= segment_size <= MAX_SEGMENT_SIZE:
        raise ValueError(f"Segment size must be 1 to {MAX_SEGMENT_SIZE} bytes")
    return Header(VERSION, segment_size, key_id, os.urandom(NONCE_SIZE))


def read_header(read: Reader) -> Header:
    fixed = _read_exact(read, _FIXED.size)
    if len(fixed) < _FIXED.size:
        raise BlobIntegrityError("The blob is too short to have a header")
    magic, version, segment_size, id_length = _FIXED.unpack(fixed)
    if magic != MAGIC:
        raise BlobIntegrityError("The blob does not start with the evidence store's marker")
    if version != VERSION:
        raise BlobIntegrityError(f"The blob has unknown format version {version}")
    if not 1 <= segment_size <= MAX_SEGMENT_SIZE:
        raise BlobIntegrityError(f"The blob's segment size {segment_size} is not valid")
    rest = _read_exact(read, id_length + NONCE_SIZE)
    if len(rest) < id_length + NONCE_SIZE:
        raise BlobIntegrityError("The blob's header is cut short")
    try:
        key_id = rest[:id_length].decode("ascii")
    except UnicodeDecodeError:
        raise BlobIntegrityError("The blob's key id is not ASCII") from None
    return Header(version, segment_size, key_id, rest[id_length:])


def encrypt(segments: Iterable[bytes], key: bytes, header: Header) -> Iterator[bytes]:
    """Yield the header, then each plaintext segment encrypted.

    `segments` must yield full segments except perhaps the last, and at least one
    (b"" for empty content); one segment is held back to know which is final.
    """
    header_bytes = header.encode()
    aead = AESGCM(key)
    yield header_bytes
    iterator = iter(segments)
    pending = next(iterator, b"")
    index = 0
    for segment in iterator:
        if len(pending) != header.segment_size:
            raise ValueError("Only the last segment may be shorter than the segment size")
        yield aead.encrypt(_nonce(header, index), pending, _aad(header_bytes, index, False))
        pending, index = segment, index + 1
    yield aead.encrypt(_nonce(header, index), pending, _aad(header_bytes, index, True))


def decrypt(read: Reader, keys: KeyRing) -> Iterator[bytes]:
    """Yield the plaintext segments of a blob, raising `BlobIntegrityError` on any change.

    A consumer must read to the end: only the last segment proves nothing was cut off.
    """
    header = read_header(read)
    header_bytes = header.encode()
    aead = AESGCM(keys.key(header.key_id))
    full = header.segment_size + TAG_SIZE
    chunk = _read_exact(read, full)
    index = 0
    while True:
        following = _read_exact(read, full) if len(chunk) == full else b""
        final = not following
        try:
            yield aead.decrypt(_nonce(header, index), chunk, _aad(header_bytes, index, final))
        except InvalidTag:
            raise BlobIntegrityError(
                f"Segment {index} of the blob failed authentication: it was altered, "
                "truncated, or encrypted with another key"
            ) from None
        if final:
            return
        chunk, index = following, index + 1


def segments_of(read: Reader, size: int) -> Iterator[bytes]:
    """Cut a stream into full segments (the last may be short; b"" for empty input)."""
    first = True
    while True:
        segment = _read_exact(read, size)
        if segment or first:
            yield segment
        if len(segment) < size:
            return
        first = False


def _read_exact(read: Reader, size: int) -> bytes:
    """Read `size` bytes unless the stream ends first; raw streams may return less."""
    parts = []
    remaining = size
    while remaining > 0:
        part = read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _nonce(header: Header, index: int) -> bytes:
    base = int.from_bytes(header.base_nonce, "big")
    return (base ^ index).to_bytes(NONCE_SIZE, "big")


def _aad(header_bytes: bytes, index: int, final: bool) -> bytes:
    return header_bytes + struct.pack(">Q?", index, final)
