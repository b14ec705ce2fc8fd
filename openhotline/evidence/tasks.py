"""Hashing of stored media, on the media queue, and the evidence sweep."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.evidence.models import HashState, MediaItem, MediaKind
from openhotline.evidence.signals import media_hashed
from openhotline.evidence.store import get_store
from openhotline.lib.pdq import hash_image
from openhotline.lib.vpdq import hash_video


@contextmanager
def memory_file(data: bytes) -> Iterator[str]:
    """A path to ``data`` that lives in memory only (Linux memfd), for decoders that want a path.

    Evidence is never written to disk in the clear.
    """
    fd = os.memfd_create("openhotline-evidence", os.MFD_CLOEXEC)
    try:
        os.write(fd, data)
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    name="openhotline.evidence.tasks.hash_media_item",
)
def hash_media_item(media_id: int) -> None:
    """Compute the perceptual hashes of one media item; running it twice changes nothing.

    1. Reload the item; stop if it is gone or already hashed.
    2. Decrypt its content in memory and hash it as an image or a video.
    3. Save the hashes (or why it could not be decoded) in one update; after
       the commit, send ``media_hashed`` (matching compares the item with the
       hash sets).
    """
    item = MediaItem.objects.select_related("blob").filter(pk=media_id).first()
    if item is None or item.is_hashed():
        return
    data = get_store().get(item.blob.name)
    fields: dict[str, object] = {}
    if item.kind == MediaKind.VIDEO:
        with memory_file(data) as path:
            video = hash_video(
                path,
                fps=settings.OPENHOTLINE_VIDEO_FPS,
                max_seconds=settings.OPENHOTLINE_VIDEO_MAX_SECONDS,
            )
        fields = {
            "width": video.width,
            "height": video.height,
            "format": video.format or "",
            "codec": video.codec or "",
            "duration_s": video.duration,
            "frames": len(video.frames),
            "vpdq": [[f.pdq, f.quality, f.timestamp] for f in video.frames],
        }
        error = video.error if not video.frames else None
    else:
        image = hash_image(data)
        fields = {
            "width": image.width,
            "height": image.height,
            "format": image.format or "",
            "frames": image.frame_count or None,
            "exif": image.exif,
            "pdq": image.pdq or "",
            "pdq_quality": image.pdq_quality,
            "pdq_dihedral": list(image.dihedral),
        }
        error = image.error
    fields["hash_state"] = HashState.UNDECODABLE if error else HashState.DONE
    fields["hash_error"] = (error or "")[:500]
    with transaction.atomic():
        updated = MediaItem.objects.filter(pk=item.pk, hash_state=HashState.PENDING).update(
            **fields
        )
        if updated:
            media_id = item.pk
            transaction.on_commit(lambda: media_hashed.send(sender=MediaItem, media_id=media_id))


# Items re-queued per sweep at most: a backlog drains over several sweeps.
SWEEP_BATCH = 1000


@shared_task(acks_late=True, name="openhotline.evidence.tasks.sweep")
def sweep() -> dict[str, int]:
    """The evidence store's safety net (beat, every ``OPENHOTLINE_HASH_SWEEP_SECONDS``).

    1. Items still waiting to be hashed, untouched for the sweep interval, are
       queued again: their message was lost (a broker restarted without
       persistence). Hashing twice changes nothing. They are touched, so a long
       but healthy queue gets one more message per interval, not one per sweep.
    2. What killed writes left in the store is removed once an hour old: temporary
       files (local) or incomplete multipart uploads and staging objects (S3).
    """
    cutoff = timezone.now() - timedelta(seconds=settings.OPENHOTLINE_HASH_SWEEP_SECONDS)
    waiting = list(
        MediaItem.objects.filter(hash_state=HashState.PENDING, updated_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    MediaItem.objects.filter(pk__in=waiting).update(updated_at=timezone.now())
    for media_id in waiting:
        hash_media_item.delay(media_id)
    removed = get_store().storage.sweep_temp()
    return {"hashing_queued": len(waiting), "leftovers_removed": removed}
