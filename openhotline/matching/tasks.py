"""Matching tasks, on the media queue. Each takes ids and is safe to run twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from openhotline.assessment.models import ClassificationSource, ItemStatus, ReviewState
from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS
from openhotline.evidence.models import HashState, MediaItem, UrlMedia
from openhotline.matching.actions.hash_sets import do_match_item
from openhotline.matching.actions.ownset import do_feed_own_set
from openhotline.matching.indexing import write_snapshots
from openhotline.matching.models import HashEntry, MatchedItem

logger = logging.getLogger(__name__)

SWEEP_BATCH = 1000


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    name="openhotline.matching.tasks.match_media_item",
)
def match_media_item(media_id: int) -> None:
    """Match one hashed media item against the hash sets, record and pre-classify.

    Items gone or not hashed yet are left alone (hashing queues this task when done).
    """
    item = MediaItem.objects.filter(pk=media_id).first()
    if item is None or not item.is_hashed():
        return
    do_match_item(item)


@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
    name="openhotline.matching.tasks.feed_own_set",
)
def feed_own_set(status_id: int) -> None:
    """Bring a hotline's own set in line with one item's classification in force."""
    status = (
        ItemStatus.objects.select_related("current", "media_item", "hotline")
        .filter(pk=status_id)
        .first()
    )
    if status is not None:
        do_feed_own_set(status)


@shared_task(acks_late=True, name="openhotline.matching.tasks.snapshot_index")
def snapshot_index() -> dict[str, int]:
    """Store this machine's PDQ indexes, so a new machine starts from them (docs/matching.md)."""
    return write_snapshots()


@shared_task(name="openhotline.matching.tasks.sweep")
def sweep() -> dict[str, int]:
    """Matching's safety net (beat, every ``OPENHOTLINE_HASH_SWEEP_SECONDS``).

    What a message lost with the broker (Redis restarted without persistence)
    would have done, done again; each step is safe to repeat:

    1. hashed items never matched, or linked to a reported URL since their
       last match (the new URL's hotline waits for its pre-classification),
       and untouched for the sweep interval, are queued for matching again;
       they are touched, so a long but healthy queue gets one more message
       per interval, not one per sweep;
    2. an analyst's illegal classification in force whose item is missing
       from the hotline's own set, or an own-set entry whose classification
       is now in force as not illegal, is put right at once.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.OPENHOTLINE_HASH_SWEEP_SECONDS)
    matched = MatchedItem.objects.filter(media_item=OuterRef("pk"))
    linked_since = UrlMedia.objects.filter(
        media_item=OuterRef("pk"),
        created_at__lte=cutoff,
        created_at__gt=MatchedItem.objects.filter(media_item=OuterRef(OuterRef("pk"))).values(
            "matched_at"
        )[:1],
    )
    unmatched = list(
        MediaItem.objects.filter(updated_at__lte=cutoff)
        .exclude(hash_state=HashState.PENDING)
        .filter(~Exists(matched) | Exists(linked_since))
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    MediaItem.objects.filter(pk__in=unmatched).update(updated_at=timezone.now())
    for media_id in unmatched:
        match_media_item.delay(media_id)
    return {"matching_queued": len(unmatched), "own_set_fed": _feed_own_sets(cutoff)}


def _feed_own_sets(cutoff: datetime) -> int:
    own_entry = HashEntry.objects.filter(
        hash_set__is_own=True,
        hash_set__owner_id=OuterRef("hotline_id"),
        sha256=OuterRef("media_item__sha256"),
    )
    by_analyst = ItemStatus.objects.filter(
        review_state=ReviewState.FINAL,
        current__source=ClassificationSource.ANALYST,
        updated_at__lte=cutoff,
    )
    illegal = Q(current__verdict__in=ILLEGAL_VERDICTS)
    wrong = list(
        by_analyst.filter((illegal & ~Exists(own_entry)) | (~illegal & Exists(own_entry)))
        .exclude(media_item__sha256="")
        .order_by("pk")
        .select_related("current", "media_item", "hotline")[:SWEEP_BATCH]
    )
    fed = 0
    for status in wrong:
        try:
            do_feed_own_set(status)
        except Exception:  # one bad row must not stop the others; logged, tried next sweep
            logger.exception("own hash set: feeding item status %s failed", status.pk)
            continue
        fed += 1
    return fed
