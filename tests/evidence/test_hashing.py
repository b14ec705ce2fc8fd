from __future__ import annotations

import csv

import pytest

from openhotline.accounts.models import Organisation
from openhotline.evidence.actions import do_store_media
from openhotline.evidence.models import HashState, MediaItem
from openhotline.evidence.tasks import hash_media_item
from openhotline.lib.pdq import pdq_distance
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource
from tests.conftest import TESTDATA
from tests.support.imagebombs import png_bomb

pytestmark = pytest.mark.django_db


def reference_pdq(name: str) -> str:
    with (TESTDATA / "pdq" / "expected.csv").open() as handle:
        return {row["file"]: row["pdq_hex"] for row in csv.DictReader(handle)}[name]


def test_a_stored_image_is_hashed_like_the_reference(hotline_a: Organisation) -> None:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://img.test/"])
    data = (TESTDATA / "pdq" / "bridge-1-original.jpg").read_bytes()
    item, created = do_store_media(
        data, mime="image/jpeg", reported_url=report.urls.get(), source_url="http://img.test/b.jpg"
    )
    assert created and item.hash_state == HashState.PENDING
    hash_media_item(item.pk)
    item.refresh_from_db()
    assert item.hash_state == HashState.DONE
    assert item.pdq_quality is not None and item.pdq_quality >= 80
    assert pdq_distance(item.pdq, reference_pdq("bridge-1-original.jpg")) <= 10
    assert len(item.pdq_dihedral) == 8 and item.width and item.height
    rotated = (TESTDATA / "pdq" / "bridge-2-rotate-90.jpg").read_bytes()
    other, _ = do_store_media(rotated, mime="image/jpeg")
    hash_media_item(other.pk)
    other.refresh_from_db()
    assert min(pdq_distance(other.pdq, variant) for variant in item.pdq_dihedral) <= 31


def test_the_same_content_is_one_item_and_hashing_twice_changes_nothing(
    hotline_a: Organisation,
) -> None:
    data = (TESTDATA / "pdq" / "bridge-3-rotate-180.jpg").read_bytes()
    item, _ = do_store_media(data, mime="image/jpeg")
    again, created = do_store_media(data, mime="image/jpeg")
    assert again.pk == item.pk and not created
    hash_media_item(item.pk)
    first = MediaItem.objects.get(pk=item.pk)
    hash_media_item(item.pk)
    assert MediaItem.objects.get(pk=item.pk).updated_at == first.updated_at


def test_an_undecodable_file_is_recorded_with_its_crypto_hashes() -> None:
    item, _ = do_store_media(b"\xff\xd8\xff\xe0 not really a jpeg" * 10, mime="image/jpeg")
    hash_media_item(item.pk)
    item.refresh_from_db()
    assert item.hash_state == HashState.UNDECODABLE and item.hash_error
    assert len(item.sha256) == 64 and len(item.md5) == 32 and not item.pdq


def test_a_video_is_hashed_frame_by_frame_in_memory() -> None:
    data = (TESTDATA / "vpdq" / "pattern-sd-grey-bar.mp4").read_bytes()
    item, _ = do_store_media(data, mime="video/mp4")
    hash_media_item(item.pk)
    item.refresh_from_db()
    assert item.hash_state == HashState.DONE, item.hash_error
    assert item.frames and item.frames == len(item.vpdq)
    assert item.duration_s and item.codec
    assert all(len(frame[0]) == 64 for frame in item.vpdq)


def test_an_image_too_large_to_decode_is_recorded_with_its_size_and_why() -> None:
    item, _ = do_store_media(png_bomb(12000, 12000), mime="image/png")

    hash_media_item(item.pk)

    item.refresh_from_db()
    assert item.hash_state == HashState.UNDECODABLE and item.pdq == ""
    assert (item.width, item.height, item.format) == (12000, 12000, "PNG")
    assert "ImageRefused: 12000x12000 PNG would take" in item.hash_error
