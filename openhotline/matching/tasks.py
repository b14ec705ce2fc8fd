"""Matching tasks, on the media queue. Each takes ids and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from openhotline.assessment.models import ItemStatus
from openhotline.evidence.models import MediaItem
from openhotline.matching.actions.hash_sets import do_match_item
from openhotline.matching.actions.ownset import do_feed_own_set
from openhotline.matching.indexing import write_snapshots


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
