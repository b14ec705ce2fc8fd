from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from openhotline.evidence.actions import do_store_blob
from openhotline.evidence.models import Blob
from openhotline.evidence.store import get_store

pytestmark = pytest.mark.django_db


def test_blobs_are_stored_once_encrypted_and_named_by_hmac(evidence_dir: Path) -> None:
    first = do_store_blob(b"generated test content " * 100, mime="text/plain")
    again = do_store_blob(b"generated test content " * 100, mime="text/plain")
    assert first.pk == again.pk and Blob.objects.count() == 1
    assert first.name != first.sha256
    files = [p for p in evidence_dir.rglob("*") if p.is_file()]
    assert len(files) == 1 and first.sha256 not in str(files[0])
    assert b"generated test content" not in files[0].read_bytes()
    assert get_store().get(first.name) == b"generated test content " * 100


def test_rotate_key_reencrypts_and_resumes(evidence_dir: Path, settings: Settings) -> None:
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


def test_a_key_in_use_cannot_be_retired(evidence_dir: Path) -> None:
    do_store_blob(b"something")
    with pytest.raises(CommandError, match="1 blob\\(s\\) still use key k1"):
        call_command("evidence", "retire-key", "k1", stdout=StringIO())


def test_the_current_key_cannot_be_retired(evidence_dir: Path) -> None:
    get_store()
    with pytest.raises(CommandError, match="current key cannot be removed"):
        call_command("evidence", "retire-key", "k1", stdout=StringIO())
