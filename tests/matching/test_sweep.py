"""The matching sweep: what a message lost with the broker would have done, done again."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.classification import do_classify_item, do_confirm_item
from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.matching import tasks
from openhotline.matching.actions.hash_sets import do_create_set
from openhotline.matching.actions.importing import do_import
from openhotline.matching.models import HashEntry, Match, MatchedItem
from openhotline.matching.readers import ReadOptions
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource
from tests.matching.conftest import encode, picture, store_item

pytestmark = pytest.mark.django_db


def age(*items: MediaItem, seconds: int = 601) -> None:
    MediaItem.objects.filter(pk__in=[i.pk for i in items]).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_an_item_whose_matching_message_was_lost_is_queued_again_and_matched(
    hotline_a: Organisation, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.OPENHOTLINE_HASH_SWEEP_SECONDS = 600
    queued: list[int] = []
    monkeypatch.setattr(tasks.match_media_item, "delay", queued.append)
    known = picture(31)
    hash_set = do_create_set("Known")
    do_import(
        hash_set,
        io.BytesIO(f"{store_item(None, encode(known)).pdq}\n".encode()),
        file_name="known",
        format="list",
        options=ReadOptions(hash64_as="pdq"),
    )
    # Hashed, but the message that would have matched them was never delivered
    # (in a test transaction nothing commits, so nothing was sent).
    lost = store_item(hotline_a, encode(known, "JPEG", quality=85))
    recent = store_item(hotline_a, encode(picture(32)))
    age(lost)

    assert tasks.sweep()["matching_queued"] == 1
    assert queued == [lost.pk]
    # Touched: the next sweep leaves the new message a whole interval.
    assert tasks.sweep()["matching_queued"] == 0
    tasks.match_media_item(lost.pk)  # what the worker does with it
    assert Match.objects.filter(media_item=lost, hash_set=hash_set).exists()
    assert MatchedItem.objects.filter(media_item=lost).exists()
    age(lost, recent, seconds=1200)
    # ``recent`` was never matched either: its turn comes once it is old enough.
    assert tasks.sweep()["matching_queued"] == 1
    assert queued[-1] == recent.pk


def test_an_item_found_on_another_url_since_its_match_is_matched_again(
    hotline_a: Organisation,
    hotline_b: Organisation,
    settings: SettingsWrapper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.OPENHOTLINE_HASH_SWEEP_SECONDS = 600
    item = store_item(hotline_a, encode(picture(33)))
    tasks.match_media_item(item.pk)
    old = timezone.now() - timedelta(seconds=900)
    MatchedItem.objects.filter(media_item=item).update(matched_at=old)
    age(item)
    queued: list[int] = []
    monkeypatch.setattr(tasks.match_media_item, "delay", queued.append)
    assert tasks.sweep()["matching_queued"] == 0  # matched after its only link

    # Another hotline's URL shows it; the message for that lost.
    page = do_file_report(
        hotline_b, source=ReportSource.PUBLIC, urls=["http://other.test/g"]
    ).urls.get()
    link = UrlMedia.objects.create(
        reported_url=page, media_item=item, source_url="http://other.test/1.png"
    )
    assert tasks.sweep()["matching_queued"] == 0  # the link is younger than the interval
    UrlMedia.objects.filter(pk=link.pk).update(created_at=old + timedelta(seconds=60))
    assert tasks.sweep()["matching_queued"] == 1
    assert queued == [item.pk]


def test_an_own_set_entry_lost_with_its_message_is_put_right(
    hotline_a: Organisation,
    analyst: User,
    senior: User,
    settings: SettingsWrapper,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.OPENHOTLINE_HASH_SWEEP_SECONDS = 600
    item = store_item(hotline_a, encode(picture(34)))
    # The direct feed failed and its retry message was lost.
    from openhotline.matching.actions import ownset

    real_feed = ownset.do_feed_own_set
    monkeypatch.setattr(ownset, "do_feed_own_set", lambda status: 1 / 0)
    monkeypatch.setattr(tasks.feed_own_set, "delay", lambda status_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        status = do_classify_item(hotline_a, item, "baseline", analyst=analyst, age_group="infant")
        do_confirm_item(status, senior, agree=True)
    monkeypatch.setattr(ownset, "do_feed_own_set", real_feed)
    own = HashEntry.objects.filter(hash_set__owner=hotline_a, hash_set__is_own=True)
    assert not own.exists()

    assert tasks.sweep()["own_set_fed"] == 0  # still within the interval
    status.__class__.objects.filter(pk=status.pk).update(
        updated_at=timezone.now() - timedelta(seconds=601)
    )
    assert tasks.sweep()["own_set_fed"] == 1
    assert own.get().sha256 == item.sha256
    assert tasks.sweep()["own_set_fed"] == 0  # nothing left to put right
