"""Uploads to S3: streamed in parts, and nothing left behind when one fails.

Against the real S3 server of tests/support/s3.py; each test has its own bucket.
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openhotline.evidence.store import get_store
from openhotline.lib.blobstore import BlobStore
from openhotline.lib.s3storage import MIN_PART_SIZE, S3Storage
from tests.support.evidence import EvidenceBackend

pytestmark = pytest.mark.evidence_backends("s3")

PART = MIN_PART_SIZE


class GeneratedVideo(io.RawIOBase):
    """A large upload produced as it is read; ``fail_at`` bytes in, the connection drops."""

    def __init__(self, size: int, fail_at: int | None = None) -> None:
        self.left = size
        self.sent = 0
        self.fail_at = fail_at
        self.digest = hashlib.sha256()
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.fail_at is not None and self.sent >= self.fail_at:
            raise OSError("the client went away mid-upload")
        self.largest_read = max(self.largest_read, len(buffer))
        n = min(len(buffer), self.left)
        chunk = os.urandom(n)
        self.digest.update(chunk)
        buffer[:n] = chunk
        self.left -= n
        self.sent += n
        return n


def s3_store(part_size: int = PART) -> tuple[BlobStore, S3Storage, Any]:
    """The test's store with small parts, and boto3's client under it (calls counted)."""
    store = get_store()
    storage = store.storage
    assert isinstance(storage, S3Storage)
    storage.part_size = part_size
    return store, storage, storage.client


def count_calls(client: Any) -> dict[str, int]:
    """Count the S3 operations ``client`` makes from now on, by name."""
    counts: dict[str, int] = {}

    def before_call(model: Any, **_: Any) -> None:
        counts[model.name] = counts.get(model.name, 0) + 1

    client.meta.events.register("before-call.s3", before_call)
    return counts


def nothing_left(storage: S3Storage, backend: EvidenceBackend) -> None:
    assert backend.raw_objects() == {}
    assert storage.pending_uploads() == []


def test_a_large_video_is_streamed_in_parts_and_reads_back(
    evidence_store: EvidenceBackend,
) -> None:
    store, storage, client = s3_store()
    calls = count_calls(client)
    video = GeneratedVideo(3 * PART + 12345)
    ref = store.put(video)
    assert ref.sha256 == video.digest.hexdigest() and ref.size == 3 * PART + 12345
    assert video.largest_read <= 1024 * 1024  # read one segment at a time, never whole
    # Four parts (three full, one short) into a staging key, then copied to its name.
    assert calls["UploadPart"] == 4 and calls["CompleteMultipartUpload"] == 1
    assert storage.staging_objects() == [] and storage.pending_uploads() == []
    assert list(storage.names()) == [ref.name]
    digest = hashlib.sha256()
    for segment in store.iter_content(ref.name):
        digest.update(segment)
    assert digest.hexdigest() == ref.sha256


def test_small_content_is_one_put_straight_to_its_name(evidence_store: EvidenceBackend) -> None:
    store, _, client = s3_store()
    calls = count_calls(client)
    ref = store.put(b"a small image" * 100)
    assert calls.get("PutObject") == 1
    assert "CreateMultipartUpload" not in calls and "CopyObject" not in calls
    assert list(evidence_store.raw_objects()) == [f"{ref.name[:2]}/{ref.name}"]


def test_an_upload_that_fails_midway_leaves_nothing_behind(
    evidence_store: EvidenceBackend,
) -> None:
    store, storage, client = s3_store()
    calls = count_calls(client)
    with pytest.raises(OSError, match="went away"):
        store.put(GeneratedVideo(5 * PART, fail_at=2 * PART + 100))
    assert calls["UploadPart"] == 2  # it really was a multipart upload in progress
    assert calls["AbortMultipartUpload"] == 1
    nothing_left(storage, evidence_store)


def test_a_failure_when_completing_the_upload_leaves_nothing_behind(
    evidence_store: EvidenceBackend,
) -> None:
    store, storage, client = s3_store()

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "Complete")

    client.meta.events.register("before-call.s3.CompleteMultipartUpload", refuse)
    with pytest.raises(ClientError, match="injected"):
        store.put(GeneratedVideo(2 * PART + 1))
    nothing_left(storage, evidence_store)


def test_a_failure_when_copying_to_the_name_leaves_nothing_behind(
    evidence_store: EvidenceBackend,
) -> None:
    store, storage, client = s3_store()

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "injected"}}, "Copy")

    client.meta.events.register("before-call.s3.CopyObject", refuse)
    with pytest.raises(ClientError, match="injected"):
        store.put(GeneratedVideo(PART + 1))
    nothing_left(storage, evidence_store)


def test_the_same_large_content_twice_is_stored_once(evidence_store: EvidenceBackend) -> None:
    store, storage, _ = s3_store()
    data = os.urandom(PART + 999)
    first = store.put(io.BytesIO(data))
    second = store.put(io.BytesIO(data))
    third = store.put(data)
    assert first.name == second.name == third.name
    assert len(evidence_store.raw_objects()) == 1 and storage.pending_uploads() == []


def test_the_sweep_aborts_uploads_a_killed_process_left(evidence_store: EvidenceBackend) -> None:
    store, storage, _ = s3_store()
    pending = storage.begin_write()
    pending.write(os.urandom(PART + 10))  # the process dies here: no commit, no abort
    staged = storage.client.put_object(
        Bucket=storage.bucket, Key=f"{storage.prefix}.staging/left-by-a-crash", Body=b"x"
    )
    assert staged and len(storage.pending_uploads()) == 1
    kept = store.put(b"real evidence")
    assert storage.sweep_temp(older_than=-60) == 2  # every leftover counts as old now
    assert storage.pending_uploads() == [] and storage.staging_objects() == []
    assert list(storage.names()) == [kept.name]


def test_a_missing_object_is_blob_not_found(evidence_store: EvidenceBackend) -> None:
    from openhotline.lib.blobstore import BlobNotFound

    store, _, _ = s3_store()
    name = "ab" * 32
    assert not store.exists(name) and not store.delete(name)
    with pytest.raises(BlobNotFound):
        store.get(name)
    with pytest.raises(BlobNotFound):
        store.key_id_of(name)
    with pytest.raises(BlobNotFound):
        store.get("../../etc/passwd")
