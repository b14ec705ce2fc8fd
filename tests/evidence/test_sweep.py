"""The evidence sweep: hashing whose message was lost, and leftovers of killed writes."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django import Settings as SettingsWrapper

from openhotline.evidence import tasks
from openhotline.evidence.actions import do_store_media
from openhotline.evidence.models import HashState, MediaItem
from openhotline.evidence.store import get_store
from openhotline.lib.blobstore import LocalStorage
from tests.evidence.conftest import sharp_image
from tests.support.evidence import EvidenceBackend

pytestmark = pytest.mark.django_db


def test_an_item_whose_hashing_message_was_lost_is_queued_again_and_hashed(
    settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.OPENHOTLINE_HASH_SWEEP_SECONDS = 600
    queued: list[int] = []
    monkeypatch.setattr(tasks.hash_media_item, "delay", queued.append)
    # do_store_media queues hashing after commit; in this test nothing commits, as
    # if the broker lost the message.
    lost, _ = do_store_media(sharp_image(1), mime="image/png")
    recent, _ = do_store_media(sharp_image(2), mime="image/png")
    done, _ = do_store_media(sharp_image(3), mime="image/png")
    MediaItem.objects.filter(pk=done.pk).update(hash_state=HashState.DONE)
    old = timezone.now() - timedelta(seconds=601)
    MediaItem.objects.filter(pk__in=[lost.pk, done.pk]).update(updated_at=old)

    assert tasks.sweep()["hashing_queued"] == 1
    assert queued == [lost.pk]
    # Touched: the next sweep leaves the new message a whole interval.
    assert tasks.sweep()["hashing_queued"] == 0
    tasks.hash_media_item(lost.pk)  # what the worker does with it, from the store
    lost.refresh_from_db()
    assert lost.hash_state == HashState.DONE and len(lost.pdq) == 64
    assert MediaItem.objects.get(pk=recent.pk).hash_state == HashState.PENDING


def test_the_sweep_removes_what_a_killed_write_left(evidence_store: EvidenceBackend) -> None:
    store = get_store()
    kept = store.put(b"evidence stored before")
    pending = store.storage.begin_write()
    pending.write(os.urandom(9 * 1024 * 1024))  # past one S3 part; then the process dies
    if isinstance(store.storage, LocalStorage):
        (leftover,) = store.storage.temp_files()
        assert tasks.sweep()["leftovers_removed"] == 0  # young: may still be in progress
        os.utime(leftover, (0, 0))
    # moto reports every upload as started long ago, so on S3 it is old at once.
    assert tasks.sweep()["leftovers_removed"] == 1
    assert list(evidence_store.raw_objects()) == [f"{kept.name[:2]}/{kept.name}"]
    assert tasks.sweep()["leftovers_removed"] == 0
    assert store.get(kept.name) == b"evidence stored before"
