from __future__ import annotations

import io
import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from openhotline.evidence.actions import do_store_blob
from openhotline.evidence.models import Blob
from openhotline.evidence.store import get_store
from openhotline.lib.blobstore import BlobNotFound, BlobStore
from tests.support.evidence import EvidenceBackend

pytestmark = pytest.mark.django_db


def test_blobs_are_stored_once_encrypted_and_named_by_hmac(
    evidence_store: EvidenceBackend,
) -> None:
    first = do_store_blob(b"generated test content " * 100, mime="text/plain")
    again = do_store_blob(b"generated test content " * 100, mime="text/plain")
    assert first.pk == again.pk and Blob.objects.count() == 1
    assert first.name != first.sha256
    ((path, raw),) = evidence_store.raw_objects().items()
    assert path == f"{first.name[:2]}/{first.name}" and first.sha256 not in path
    assert raw.startswith(b"OHEB") and b"generated test content" not in raw
    assert get_store().get(first.name) == b"generated test content " * 100


def test_rotate_key_reencrypts_and_resumes(settings: Settings) -> None:
    blobs = [do_store_blob(f"item {i}".encode() * 50) for i in range(5)]
    assert {b.key_id for b in blobs} == {"k1"}
    out = StringIO()
    call_command("evidence", "rotate-key", stdout=out)
    ring = json.loads(Path(settings.OPENHOTLINE_EVIDENCE_KEYRING_FILE).read_text())
    assert ring["current"] == "k2" and set(ring["keys"]) == {"k1", "k2"}
    assert set(Blob.objects.values_list("key_id", flat=True)) == {"k2"}
    assert "rotated 5" in out.getvalue()
    # A resumed run finds nothing left to do, and the content is intact.
    out = StringIO()
    call_command("evidence", "rotate-key", "--resume", stdout=out)
    assert "rotated 0, already under k2: 5" in out.getvalue()
    call_command("evidence", "retire-key", "k1", stdout=StringIO())
    assert get_store().get(blobs[3].name) == b"item 3" * 50


def test_a_key_in_use_cannot_be_retired() -> None:
    do_store_blob(b"something")
    with pytest.raises(CommandError, match="1 blob\\(s\\) still use key k1"):
        call_command("evidence", "retire-key", "k1", stdout=StringIO())


def test_the_current_key_cannot_be_retired() -> None:
    get_store()
    with pytest.raises(CommandError, match="current key cannot be removed"):
        call_command("evidence", "retire-key", "k1", stdout=StringIO())


def test_an_interrupted_rotation_resumes_and_covers_named_blobs(settings: Settings) -> None:
    blobs = [do_store_blob(f"item {i}".encode() * 5000) for i in range(4)]
    get_store().put_blob("pdq/snapshot-1", b"an index snapshot" * 1000)
    real = BlobStore._reencrypt
    done: list[str] = []

    def die_after_two(self: BlobStore, name: str, key_id: str, key: bytes) -> None:
        if len(done) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a killed process
        real(self, name, key_id, key)
        done.append(name)

    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(BlobStore, "_reencrypt", die_after_two)
        call_command("evidence", "rotate-key", stdout=StringIO())
    store = get_store()
    assert store.keys.current == "k2"
    assert sorted(store.key_id_of(b.name) for b in blobs).count("k2") == 2
    with pytest.raises(CommandError, match="still use key k1"):
        call_command("evidence", "retire-key", "k1", stdout=StringIO())

    out = StringIO()
    call_command("evidence", "rotate-key", "--resume", stdout=out)
    assert "rotated 3, already under k2: 2" in out.getvalue()  # 2 blobs + the snapshot
    assert set(Blob.objects.values_list("key_id", flat=True)) == {"k2"}
    call_command("evidence", "retire-key", "k1", stdout=StringIO())
    store = get_store()
    assert store.keys.key_ids == {"k2"}
    assert [store.get(b.name) for b in blobs] == [f"item {i}".encode() * 5000 for i in range(4)]
    assert b"".join(store.iter_blob("pdq/snapshot-1")) == b"an index snapshot" * 1000


def test_named_blobs_round_trip_streaming_and_list_by_label(
    evidence_store: EvidenceBackend,
) -> None:
    store = get_store()
    big = os.urandom(3 * 1024 * 1024 + 17)
    assert store.put_blob("pdq/snapshot-00000002", io.BytesIO(big)) == len(big)
    store.put_blob("pdq/snapshot-00000001", b"older")
    store.put_blob("other", b"x")
    assert store.blob_labels("pdq/") == ["pdq/snapshot-00000001", "pdq/snapshot-00000002"]
    with store.open_blob("pdq/snapshot-00000002") as file:
        assert file.read(10) == big[:10]
        assert file.read() == big[10:]
    store.put_blob("pdq/snapshot-00000001", b"replaced")
    assert store.open_blob("pdq/snapshot-00000001").read() == b"replaced"
    assert store.blob_exists("other") and store.delete_blob("other")
    assert not store.blob_exists("other") and not store.delete_blob("other")
    with pytest.raises(BlobNotFound):
        store.open_blob("other").read()
    for bad in ("../escape", "a/../../b", "", "/abs", "a//b", "x" * 200):
        with pytest.raises(ValueError, match="Blob label"):
            store.put_blob(bad, b"nope")
    # Named blobs are encrypted like evidence, and never listed as evidence.
    raw = evidence_store.raw_objects()
    assert raw["named/pdq/snapshot-00000001"].startswith(b"OHEB")
    assert b"replaced" not in raw["named/pdq/snapshot-00000001"]
    assert all(name.startswith("named/") for name in store.storage.names())
