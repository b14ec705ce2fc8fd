from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from openhotline.lib import blobcrypto
from openhotline.lib.blobstore import (
    BlobIntegrityError,
    BlobNotFound,
    BlobStore,
    KeyRing,
    LocalStorage,
    UnknownKeyError,
)

SEGMENT = 4096  # small segments so that multi-segment blobs stay small and quick


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing.generate("k1")


@pytest.fixture
def store(tmp_path: Path, keys: KeyRing) -> BlobStore:
    return BlobStore(tmp_path / "blobs", keys, segment_size=SEGMENT)


def blob_path(store: BlobStore, name: str) -> Path:
    assert isinstance(store.storage, LocalStorage)
    return store.storage.path_of(name)


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT])
def test_it_round_trips_content_of_any_size(store: BlobStore, size: int) -> None:
    data = os.urandom(size)
    ref = store.put(data)
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.size == size
    assert ref.key_id == "k1"
    assert store.exists(ref.name)
    assert store.get(ref.name) == data


def test_it_stores_the_same_content_once(store: BlobStore, tmp_path: Path) -> None:
    first = store.put(b"same evidence")
    second = store.put(io.BytesIO(b"same evidence"))
    third = store.put(b"same evidence")
    assert first.name == second.name == third.name
    assert len(all_files(tmp_path / "blobs")) == 1


def test_blob_names_are_keyed_not_the_plain_hash(tmp_path: Path) -> None:
    data = b"known file"
    one = BlobStore(tmp_path / "a", KeyRing.generate()).put(data)
    other = BlobStore(tmp_path / "b", KeyRing.generate()).put(data)
    assert one.name != one.sha256
    assert one.name != hashlib.sha256(one.sha256.encode()).hexdigest()
    assert one.name != other.name  # a different name key gives a different name
    assert one.sha256 == other.sha256


def test_the_plaintext_is_not_on_disk(store: BlobStore, tmp_path: Path) -> None:
    data = b"plaintext marker " * 100
    ref = store.put(data)
    raw = blob_path(store, ref.name).read_bytes()
    assert b"plaintext marker" not in raw
    assert raw.startswith(blobcrypto.MAGIC)


def test_a_wrong_key_with_the_same_id_fails(store: BlobStore, tmp_path: Path) -> None:
    ref = store.put(b"evidence")
    impostor = KeyRing.from_json(store.keys.to_json()).with_key("k1", os.urandom(32))
    with pytest.raises(BlobIntegrityError, match="authentication"):
        BlobStore(tmp_path / "blobs", impostor).get(ref.name)


def test_a_missing_key_is_named(store: BlobStore, tmp_path: Path) -> None:
    ref = store.put(b"evidence")
    other = KeyRing({"k9": os.urandom(32)}, "k9", os.urandom(32))
    with pytest.raises(UnknownKeyError, match="k1"):
        BlobStore(tmp_path / "blobs", other).get(ref.name)


@pytest.mark.parametrize("offset", [0, 5, 12, 30, -1, -20])
def test_a_flipped_byte_anywhere_is_detected(store: BlobStore, offset: int) -> None:
    ref = store.put(os.urandom(2 * SEGMENT + 10))
    path = blob_path(store, ref.name)
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(BlobIntegrityError):
        store.get(ref.name)


def test_a_blob_cut_at_a_segment_boundary_is_detected(store: BlobStore) -> None:
    ref = store.put(os.urandom(3 * SEGMENT))
    path = blob_path(store, ref.name)
    raw = path.read_bytes()
    path.write_bytes(raw[: -(SEGMENT + blobcrypto.TAG_SIZE)])
    with pytest.raises(BlobIntegrityError):
        store.get(ref.name)


def test_swapped_segments_are_detected(store: BlobStore) -> None:
    ref = store.put(os.urandom(3 * SEGMENT))
    path = blob_path(store, ref.name)
    raw = path.read_bytes()
    full = SEGMENT + blobcrypto.TAG_SIZE
    header_length = len(raw) - 3 * full
    header, body = raw[:header_length], raw[header_length:]
    first, second, third = body[:full], body[full : 2 * full], body[2 * full :]
    path.write_bytes(header + second + first + third)
    with pytest.raises(BlobIntegrityError):
        store.get(ref.name)


def test_a_valid_blob_under_another_name_is_detected(store: BlobStore) -> None:
    a = store.put(b"content a")
    b = store.put(b"content b")
    blob_path(store, b.name).write_bytes(blob_path(store, a.name).read_bytes())
    with pytest.raises(BlobIntegrityError, match="does not match its name"):
        store.get(b.name)


class FailingStream(io.RawIOBase):
    """Gives some data, then fails, as a dropped upload or a dying disk would."""

    def __init__(self, good_bytes: int) -> None:
        self.left = good_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            raise OSError("connection lost")
        n = min(len(buffer), self.left, 1000)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


def test_a_crash_mid_write_leaves_no_blob_and_no_temp_file(
    store: BlobStore, tmp_path: Path
) -> None:
    with pytest.raises(OSError, match="connection lost"):
        store.put(FailingStream(3 * SEGMENT + 100))
    assert list(store.storage.names()) == []
    assert all_files(tmp_path / "blobs") == []


def test_a_failed_rename_leaves_no_blob(
    store: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"evidence")
    assert all_files(tmp_path / "blobs") == []


def test_sweep_removes_temp_files_left_by_a_killed_process(store: BlobStore) -> None:
    storage = store.storage
    assert isinstance(storage, LocalStorage)
    pending = storage.begin_write()
    pending.write(b"half a blob")  # the process dies here: no commit, no abort
    (leftover,) = storage.temp_files()
    assert storage.sweep_temp(older_than=3600) == 0  # might still be in progress
    os.utime(leftover, (0, 0))
    assert storage.sweep_temp(older_than=3600) == 1
    assert storage.temp_files() == []
    assert list(storage.names()) == []


def test_delete_and_missing_blobs(store: BlobStore) -> None:
    ref = store.put(b"evidence")
    assert store.delete(ref.name)
    assert not store.exists(ref.name)
    assert not store.delete(ref.name)
    with pytest.raises(BlobNotFound):
        store.get(ref.name)
    with pytest.raises(BlobNotFound):
        store.get("../../etc/passwd")


def test_rotation_interrupted_midway_resumes(store: BlobStore, tmp_path: Path) -> None:
    contents = {store.put(os.urandom(n * 1000)).name: n for n in range(1, 7)}
    originals = {name: store.get(name) for name in contents}
    store.keys = store.keys.with_key("k2", os.urandom(32))
    new_puts_key = store.put(b"written during rotation").key_id
    assert new_puts_key == "k2"

    calls: list[tuple[int, int]] = []

    def interrupt_after_three(done: int, total: int) -> None:
        calls.append((done, total))
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.rotate("k2", progress=interrupt_after_three)
    assert calls == [(1, 7), (2, 7), (3, 7)]
    key_ids = [store.key_id_of(name) for name in sorted(contents)]
    assert "k1" in key_ids and "k2" in key_ids  # really interrupted halfway
    assert {name: store.get(name) for name in contents} == originals

    result = store.rotate("k2")
    assert result.rotated == key_ids.count("k1")
    assert result.already_current == 7 - result.rotated
    assert result.failed == {}
    assert {store.key_id_of(name) for name in store.storage.names()} == {"k2"}

    # The old key can go now: everything reads with the new one alone.
    only_new = store.keys.without_key("k1")
    assert only_new.key_ids == {"k2"}
    reader = BlobStore(tmp_path / "blobs", only_new)
    assert {name: reader.get(name) for name in contents} == originals
    assert isinstance(store.storage, LocalStorage)
    assert store.storage.temp_files() == []


def test_a_crash_while_re_encrypting_a_blob_keeps_the_old_one(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = store.put(os.urandom(3 * SEGMENT))
    original = store.get(ref.name)
    store.keys = store.keys.with_key("k2", os.urandom(32))
    real_encrypt = blobcrypto.encrypt

    def encrypt_then_die(
        segments: Iterable[bytes], key: bytes, header: blobcrypto.Header
    ) -> Iterator[bytes]:
        for i, piece in enumerate(real_encrypt(segments, key, header)):
            if i == 2:
                raise OSError("power cut")
            yield piece

    monkeypatch.setattr(blobcrypto, "encrypt", encrypt_then_die)
    with pytest.raises(OSError, match="power cut"):
        store.rotate("k2")
    monkeypatch.undo()
    assert store.key_id_of(ref.name) == "k1"
    assert store.get(ref.name) == original
    assert store.rotate("k2").rotated == 1
    assert store.get(ref.name) == original


def test_rotation_reports_a_damaged_blob_and_goes_on(store: BlobStore) -> None:
    bad = store.put(b"will be damaged")
    good = store.put(b"fine")
    path = blob_path(store, bad.name)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    store.keys = store.keys.with_key("k2", os.urandom(32))
    result = store.rotate()
    assert result.rotated == 1
    assert list(result.failed) == [bad.name]
    assert store.key_id_of(good.name) == "k2"
    assert store.key_id_of(bad.name) == "k1"


class CountingStream(io.RawIOBase):
    """A large upload that records how much anyone asked for at once."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest_read = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.largest_read = max(self.largest_read, len(buffer))
        n = min(len(buffer), self.left)
        chunk = os.urandom(n)
        self.digest.update(chunk)
        buffer[:n] = chunk
        self.left -= n
        return n


def test_large_content_streams_in_and_out_in_segments(tmp_path: Path, keys: KeyRing) -> None:
    store = BlobStore(tmp_path / "blobs", keys)  # the default 1 MiB segments
    stream = CountingStream(5 * 1024 * 1024 + 123)
    ref = store.put(stream)
    assert ref.size == 5 * 1024 * 1024 + 123
    assert ref.sha256 == stream.digest.hexdigest()
    assert stream.largest_read <= blobcrypto.SEGMENT_SIZE
    sizes = [len(chunk) for chunk in store.iter_content(ref.name)]
    assert sizes == [blobcrypto.SEGMENT_SIZE] * 5 + [123]
    out = hashlib.sha256()
    for chunk in store.iter_content(ref.name):
        out.update(chunk)
    assert out.hexdigest() == ref.sha256


def test_key_files_round_trip_and_bad_ones_are_refused() -> None:
    ring = KeyRing.generate("2026-01").with_key("2026-02", os.urandom(32))
    again = KeyRing.from_json(ring.to_json())
    assert again.current == "2026-02"
    assert again.key_ids == {"2026-01", "2026-02"}
    assert again.name_for("00" * 32) == ring.name_for("00" * 32)
    for text in ["", "{}", '{"current": "a", "name_key": "!!", "keys": {}}']:
        with pytest.raises(ValueError, match="key file"):
            KeyRing.from_json(text)
    with pytest.raises(ValueError, match="current key"):
        again.without_key("2026-02")
    with pytest.raises(ValueError, match="32 bytes"):
        KeyRing({"a": b"short"}, "a", os.urandom(32))
    with pytest.raises(ValueError, match="Key id"):
        KeyRing({"a/b": os.urandom(32)}, "a/b", os.urandom(32))
