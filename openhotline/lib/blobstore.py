"""The content-addressed, encrypted evidence store.

Evidence is stored once per content (deduplicated by SHA-256), encrypted with the
current key of a `KeyRing` (see `blobcrypto` for the format), under a name that is
an HMAC of the content hash. Where the bytes live is a `Storage`: the local disk
here (`LocalStorage`), an S3-compatible bucket in `lib/s3storage.py`.

Besides content, the store keeps *named blobs*: opaque files a caller names itself
(`put_blob("pdq/snapshot-000123", file)`, `open_blob(...)`), such as the PDQ index
snapshots machines start from. They are encrypted the same way and re-encrypted by
a rotation, but their name says nothing about their content.

A crash never leaves a half-written blob under a real name: writes go to a temporary
file that is fsynced and then renamed over the final name in one step (on S3: an
object appears only when its upload completes).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from openhotline.lib import blobcrypto
from openhotline.lib.blobcrypto import (
    SEGMENT_SIZE,
    BlobError,
    BlobIntegrityError,
    KeyRing,
    UnknownKeyError,
)

__all__ = [
    "BlobError",
    "BlobIntegrityError",
    "BlobNotFound",
    "BlobRef",
    "BlobStore",
    "KeyRing",
    "LocalStorage",
    "PendingWrite",
    "Readable",
    "RotationResult",
    "Storage",
    "UnknownKeyError",
    "is_storage_name",
    "named",
]

_NAME_RE = re.compile(r"[0-9a-f]{64}")
# A named blob's storage name: "named/" and one to four path segments.
NAMED_PREFIX = "named/"
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_LABEL_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT}){{0,3}}")
_TEMP_PREFIX = ".tmp-"


def is_storage_name(name: str) -> bool:
    """A content name (64 hex digits) or "named/<label>"."""
    if _NAME_RE.fullmatch(name):
        return True
    return name.startswith(NAMED_PREFIX) and is_label(name[len(NAMED_PREFIX) :])


def is_label(label: str) -> bool:
    return _LABEL_RE.fullmatch(label) is not None and ".." not in label


def named(label: str) -> str:
    """The storage name of the named blob ``label``; ValueError for a bad label."""
    if not is_label(label):
        raise ValueError(f"Blob label {label!r}: 1-4 segments of A-Z a-z 0-9 . _ - joined by '/'")
    return NAMED_PREFIX + label


class Readable(Protocol):
    """What `put` reads from: an open file, an upload, a socket stream."""

    def read(self, size: int = -1, /) -> bytes: ...


class BlobNotFound(BlobError, KeyError):
    """No blob has that name."""


class PendingWrite(Protocol):
    """A blob being written; invisible under its name until `commit`."""

    def write(self, data: bytes) -> None: ...

    def commit(self, name: str, *, replace: bool) -> bool:
        """Make the data visible as `name`; False (and discard) if it exists and not replace."""
        ...

    def abort(self) -> None: ...


class Storage(Protocol):
    """Where encrypted blobs live.

    Names are 64 lower-case hex digits (content) or "named/<label>" (named blobs,
    see `is_storage_name`); anything else is `BlobNotFound`.
    """

    def exists(self, name: str) -> bool: ...

    def open_read(self, name: str) -> BinaryIO:
        """Open a blob's bytes for reading; raise `BlobNotFound` if there is none."""
        ...

    def read_head(self, name: str, size: int) -> bytes:
        """The first ``size`` bytes (fewer if shorter); `BlobNotFound` if there is none."""
        ...

    def begin_write(self, name: str | None = None) -> PendingWrite:
        """Start a write; `name`, when known in advance, lets the backend place it."""
        ...

    def delete(self, name: str) -> bool: ...

    def names(self) -> Iterator[str]:
        """Every blob: content names, then named blobs ("named/…")."""
        ...

    def sweep_temp(self, older_than: float = 3600.0) -> int:
        """Remove what writes killed mid-way left behind; return how many."""
        ...


class _LocalPendingWrite:
    def __init__(self, storage: LocalStorage, directory: Path) -> None:
        self._storage = storage
        directory.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
        self._path = Path(path)
        self._file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self, name: str, *, replace: bool) -> bool:
        final = self._storage.path_of(name)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if not replace and final.exists():
            self._path.unlink()
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path, final)
        _fsync_directory(final.parent)
        return True

    def abort(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)


class LocalStorage:
    """Blobs as files `root/ab/abcdef…`; temporary files start with ".tmp-".

    A write whose name is known (a rotation) is staged in the blob's own directory;
    new content, named only once it has been hashed, is staged in `root/.staging`.
    Both are on the same file system as the blob, so the rename is atomic.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, name: str) -> Path:
        if not is_storage_name(name):
            raise BlobNotFound(name)
        if name.startswith(NAMED_PREFIX):
            return self.root / name
        return self.root / name[:2] / name

    def exists(self, name: str) -> bool:
        return is_storage_name(name) and self.path_of(name).is_file()

    def open_read(self, name: str) -> BinaryIO:
        try:
            return self.path_of(name).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise BlobNotFound(name) from None

    def read_head(self, name: str, size: int) -> bytes:
        with self.open_read(name) as file:
            return file.read(size)

    def begin_write(self, name: str | None = None) -> PendingWrite:
        directory = self.path_of(name).parent if name else self.root / ".staging"
        return _LocalPendingWrite(self, directory)

    def delete(self, name: str) -> bool:
        try:
            self.path_of(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self) -> Iterator[str]:
        for directory in sorted(self.root.iterdir()):
            if len(directory.name) == 2 and directory.is_dir():
                for path in sorted(directory.iterdir()):
                    if _NAME_RE.fullmatch(path.name):
                        yield path.name
        named_root = self.root / NAMED_PREFIX.rstrip("/")
        if named_root.is_dir():
            for path in sorted(named_root.rglob("*")):
                name = path.relative_to(self.root).as_posix()
                if path.is_file() and is_storage_name(name):
                    yield name

    def temp_files(self) -> list[Path]:
        return [p for p in self.root.rglob(f"{_TEMP_PREFIX}*") if p.is_file()]

    def sweep_temp(self, older_than: float = 3600.0) -> int:
        """Remove temporary files left by killed processes; return how many.

        Only old ones: a younger file may belong to a write still in progress.
        """
        cutoff = time.time() - older_than
        removed = 0
        for path in self.temp_files():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed += 1
        return removed


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    name: str
    key_id: str
    size: int


@dataclass
class RotationResult:
    rotated: int = 0
    already_current: int = 0
    failed: dict[str, str] = field(default_factory=dict)


ProgressCallback = Callable[[int, int], None]


class BlobStore:
    """Put, read and rotate evidence; see the module docstring."""

    def __init__(
        self, storage: Storage | Path, keys: KeyRing, *, segment_size: int = SEGMENT_SIZE
    ) -> None:
        self.storage: Storage = LocalStorage(storage) if isinstance(storage, Path) else storage
        self.keys = keys
        self.segment_size = segment_size

    def name_for(self, sha256_hex: str) -> str:
        return self.keys.name_for(sha256_hex)

    def put(self, data: bytes | Readable) -> BlobRef:
        """Store content once, streaming it; return where it is and under which key.

        1. Bytes already stored (by name) are not written again.
        2. Otherwise encrypt segment by segment into a pending write while hashing.
        3. Name the blob from the hash and commit it, unless it exists by now.
        """
        known: str | None = None
        if isinstance(data, bytes | bytearray | memoryview):
            sha256 = hashlib.sha256(data).hexdigest()
            known = self.name_for(sha256)
            if self.storage.exists(known):
                return BlobRef(sha256, known, self.key_id_of(known), len(data))
            source: Readable = _BytesReader(bytes(data))
        else:
            source = data
        hasher = hashlib.sha256()
        size = 0

        def hashed_segments() -> Iterator[bytes]:
            nonlocal size
            for segment in blobcrypto.segments_of(source.read, self.segment_size):
                hasher.update(segment)
                size += len(segment)
                yield segment

        key_id = self.keys.current
        header = blobcrypto.new_header(key_id, self.segment_size)
        # Bytes are named before they are written (S3 then uploads straight to the name).
        pending = self.storage.begin_write(known)
        try:
            for piece in blobcrypto.encrypt(hashed_segments(), self.keys.key(key_id), header):
                pending.write(piece)
            sha256 = hasher.hexdigest()
            name = self.name_for(sha256)
            if not pending.commit(name, replace=False):
                key_id = self.key_id_of(name)
        except BaseException:
            pending.abort()
            raise
        return BlobRef(sha256, name, key_id, size)

    def iter_content(self, name: str) -> Iterator[bytes]:
        """Yield the plaintext in segments; raise `BlobIntegrityError` at the end if wrong.

        Besides the AES-GCM tags, the content's hash must give the blob's name, so a
        blob file moved to another name is caught too.
        """
        hasher = hashlib.sha256()
        with self.storage.open_read(name) as file:
            for segment in blobcrypto.decrypt(file.read, self.keys):
                hasher.update(segment)
                yield segment
        if not hmac.compare_digest(self.name_for(hasher.hexdigest()), name):
            raise BlobIntegrityError(f"The content of blob {name} does not match its name")

    def get(self, name: str) -> bytes:
        return b"".join(self.iter_content(name))

    def exists(self, name: str) -> bool:
        return self.storage.exists(name)

    def delete(self, name: str) -> bool:
        return self.storage.delete(name)

    def key_id_of(self, name: str) -> str:
        # The header is at most 4+1+4+1+64+12 bytes; one small read, not a download.
        head = io.BytesIO(self.storage.read_head(name, blobcrypto.MAX_HEADER_SIZE))
        return blobcrypto.read_header(head.read).key_id

    # Named blobs: opaque files other parts keep in the same store (PDQ index
    # snapshots). Use names that are never rewritten (a serial in the label): a
    # rotation running at the same moment re-encrypts what it read, and would put
    # back the older content of a label written in between.

    def put_blob(self, label: str, source: bytes | Readable) -> int:
        """Store ``source`` encrypted under ``label`` (replacing it); return its size.

        Streamed like content: large files never sit in memory whole, and a
        failed write leaves the previous blob of that label (or none).
        """
        name = named(label)
        reader: Readable = (
            _BytesReader(bytes(source))
            if isinstance(source, bytes | bytearray | memoryview)
            else source
        )
        size = 0

        def counted() -> Iterator[bytes]:
            nonlocal size
            for segment in blobcrypto.segments_of(reader.read, self.segment_size):
                size += len(segment)
                yield segment

        key_id = self.keys.current
        header = blobcrypto.new_header(key_id, self.segment_size)
        pending = self.storage.begin_write(name)
        try:
            for piece in blobcrypto.encrypt(counted(), self.keys.key(key_id), header):
                pending.write(piece)
            pending.commit(name, replace=True)
        except BaseException:
            pending.abort()
            raise
        return size

    def iter_blob(self, label: str) -> Iterator[bytes]:
        """The plaintext of the named blob in segments; `BlobNotFound`, `BlobIntegrityError`."""
        return self._iter_plain(named(label))

    def open_blob(self, label: str) -> BinaryIO:
        """The named blob as a read-only file object, decrypted as it is read.

        Read it to the end (or use `iter_blob`): only the last segment proves
        that nothing was cut off.
        """
        return cast(BinaryIO, io.BufferedReader(_IterReader(self.iter_blob(label))))

    def blob_exists(self, label: str) -> bool:
        return self.storage.exists(named(label))

    def delete_blob(self, label: str) -> bool:
        return self.storage.delete(named(label))

    def blob_labels(self, under: str = "") -> list[str]:
        """Labels of the named blobs, sorted; ``under`` keeps those starting with it."""
        return [
            name[len(NAMED_PREFIX) :]
            for name in self.storage.names()
            if name.startswith(NAMED_PREFIX + under)
        ]

    def _iter_plain(self, name: str) -> Iterator[bytes]:
        with self.storage.open_read(name) as file:
            yield from blobcrypto.decrypt(file.read, self.keys)

    def rotate(
        self, new_key_id: str | None = None, progress: ProgressCallback | None = None
    ) -> RotationResult:
        """Re-encrypt every blob not yet under `new_key_id` (default: the current key).

        First make the new key current (`KeyRing.with_key`) so new puts use it too;
        once no blob is left under the old key, `KeyRing.without_key` retires it.

        Each blob is re-encrypted into a pending write and atomically replaced, so an
        interrupted rotation leaves every blob readable, and running it again simply
        continues: blobs already under the new key are skipped after reading their
        header. A blob that fails to decrypt is kept as it is and reported.
        `progress(done, total)` is called after each blob.
        """
        target = new_key_id or self.keys.current
        key = self.keys.key(target)
        total = sum(1 for _ in self.storage.names())
        result = RotationResult()
        for done, name in enumerate(self.storage.names(), start=1):
            try:
                if self.key_id_of(name) == target:
                    result.already_current += 1
                else:
                    self._reencrypt(name, target, key)
                    result.rotated += 1
            except BlobNotFound:
                pass  # deleted while we were rotating
            except BlobError as exc:
                result.failed[name] = str(exc)
            if progress is not None:
                progress(done, total)
        return result

    def _reencrypt(self, name: str, key_id: str, key: bytes) -> None:
        header = blobcrypto.new_header(key_id, self.segment_size)
        pending = self.storage.begin_write(name)
        # A named blob's name is not derived from its content: AES-GCM alone checks it.
        source = (
            self._iter_plain(name) if name.startswith(NAMED_PREFIX) else self.iter_content(name)
        )
        try:
            plaintext = _Resegmenter(source, self.segment_size)
            for piece in blobcrypto.encrypt(plaintext, key, header):
                pending.write(piece)
            pending.commit(name, replace=True)
        except BaseException:
            pending.abort()
            raise


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._offset = 0

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            size = len(self._view)
        chunk = self._view[self._offset : self._offset + size]
        self._offset += len(chunk)
        return bytes(chunk)


class _IterReader(io.RawIOBase):
    """A raw, readable file over an iterator of byte strings."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = chunk
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._left))
        view[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


class _Resegmenter:
    """Plaintext segments of one size, from segments of another (the old blob's)."""

    def __init__(self, chunks: Iterator[bytes], size: int) -> None:
        self._chunks = chunks
        self._size = size

    def __iter__(self) -> Iterator[bytes]:
        buffer = bytearray()
        yielded = False
        for chunk in self._chunks:
            buffer += chunk
            while len(buffer) > self._size:
                yield bytes(buffer[: self._size])
                del buffer[: self._size]
                yielded = True
        if buffer or not yielded:
            yield bytes(buffer)


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
