from __future__ import annotations

from typing import Any

import pytest

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.classification import do_classify_item, do_confirm_item
from openhotline.assessment.models import ClassificationSource, ItemStatus, ReviewState
from openhotline.matching.indexcheck import check_indexes
from openhotline.matching.models import HashEntry, HashSet, Match
from openhotline.matching.tasks import match_media_item
from tests.matching.conftest import encode, picture, store_item

pytestmark = pytest.mark.django_db


def own_entries(hotline: Organisation) -> list[HashEntry]:
    return list(HashEntry.objects.filter(hash_set__owner=hotline, hash_set__is_own=True))


def test_a_baseline_item_enters_our_set_only_after_four_eyes_and_then_matches_copies(
    hotline_a: Organisation,
    hotline_b: Organisation,
    analyst: User,
    senior: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    item = store_item(hotline_a, encode(picture(21)))
    with django_capture_on_commit_callbacks(execute=True):
        status = do_classify_item(hotline_a, item, "baseline", analyst=analyst, age_group="infant")
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    assert own_entries(hotline_a) == []

    with django_capture_on_commit_callbacks(execute=True):
        do_confirm_item(status, senior, agree=True)
    (entry,) = own_entries(hotline_a)
    assert (entry.sha256, entry.pdq, entry.verdict, entry.category) == (
        item.sha256,
        item.pdq,
        "baseline",
        1,
    )
    assert entry.source_media_id == item.pk
    assert all(check.is_consistent() for check in check_indexes())

    copy = store_item(hotline_a, encode(picture(21).resize((500, 375)), "JPEG", quality=80))
    elsewhere = store_item(hotline_b, encode(picture(21), "JPEG", quality=90))
    match_media_item(copy.pk)
    match_media_item(elsewhere.pk)
    known = ItemStatus.objects.get(media_item=copy)
    assert known.current.source == ClassificationSource.HASH_MATCH
    assert known.current.verdict == "baseline" and known.current.age_group == "infant"
    assert known.current.reason.startswith("set Hotline A: own classifications, distance ")
    assert not ItemStatus.objects.filter(media_item=elsewhere).exists()
    assert Match.objects.filter(media_item=elsewhere).exists()


def test_a_verdict_that_is_not_illegal_takes_the_item_out_again(
    hotline_a: Organisation, analyst: User, senior: User, django_capture_on_commit_callbacks: Any
) -> None:
    item = store_item(hotline_a, encode(picture(22)))
    with django_capture_on_commit_callbacks(execute=True):
        status = do_classify_item(hotline_a, item, "national", analyst=analyst, is_virtual=True)
        assert own_entries(hotline_a) == []  # not before four-eyes
        do_confirm_item(status, senior, agree=True)
    (entry,) = own_entries(hotline_a)
    assert (entry.verdict, entry.category) == ("national_virtual", 3)
    with django_capture_on_commit_callbacks(execute=True):
        do_classify_item(hotline_a, item, "not_illegal", analyst=senior)
    assert own_entries(hotline_a) == []
    assert HashSet.objects.filter(owner=hotline_a, is_own=True).count() == 1


def test_machine_classifications_do_not_feed_our_set(
    hotline_a: Organisation, django_capture_on_commit_callbacks: Any
) -> None:
    item = store_item(hotline_a, encode(picture(23)))
    with django_capture_on_commit_callbacks(execute=True):
        do_classify_item(
            hotline_a,
            item,
            "baseline",
            analyst=None,
            source=ClassificationSource.HASH_MATCH,
            reason="set X, distance 0 (MD5)",
        )
    assert own_entries(hotline_a) == []
