"""Storing evidence and media, and the audited ways of looking at it."""

from __future__ import annotations

import hashlib

from django.db import transaction

from openhotline.accounts.models import User
from openhotline.audit.log import record
from openhotline.evidence.models import Blob, MediaItem, MediaKind, UrlMedia
from openhotline.evidence.store import get_store
from openhotline.reports.models import ReportedUrl


def kind_of(mime: str) -> str:
    if mime.startswith("image/"):
        return MediaKind.IMAGE
    if mime.startswith("video/"):
        return MediaKind.VIDEO
    return MediaKind.OTHER


def do_store_blob(data: bytes, *, mime: str = "") -> Blob:
    """Encrypt ``data`` into the store (once per content) and record it.

    The file is written before the row: a crash in between leaves an
    unreferenced blob, which is harmless and is reused on the next put,
    never a row pointing at nothing.
    """
    ref = get_store().put(data)
    blob, _ = Blob.objects.get_or_create(
        sha256=ref.sha256,
        defaults={"name": ref.name, "key_id": ref.key_id, "size": ref.size, "mime": mime},
    )
    return blob


def do_store_media(
    data: bytes,
    *,
    mime: str,
    reported_url: ReportedUrl | None = None,
    source_url: str = "",
    found_in: str = "",
) -> tuple[MediaItem, bool]:
    """Store one media file and link it to the URL it was found on.

    Returns the item and whether it is new to this installation. Hashing is
    queued for new items once the transaction commits.
    """
    blob = do_store_blob(data, mime=mime)
    with transaction.atomic():
        item, created = MediaItem.objects.get_or_create(
            sha256=blob.sha256,
            defaults={
                "blob": blob,
                "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
                "size": len(data),
                "mime": mime,
                "kind": kind_of(mime),
            },
        )
        if reported_url is not None:
            UrlMedia.objects.get_or_create(
                reported_url=reported_url,
                media_item=item,
                defaults={"source_url": source_url, "found_in": found_in},
            )
        if created:
            queue_hashing(item.pk)
    return item, created


def queue_hashing(media_id: int) -> None:
    from openhotline.evidence.tasks import hash_media_item

    transaction.on_commit(lambda: hash_media_item.delay(media_id))


def do_record_media_view(user: User, item: MediaItem, *, step: str, purpose: str) -> None:
    """Audit one look at a media item (thumbnail, reveal or download)."""
    record(
        "media.viewed" if purpose == "view" else f"media.{purpose}",
        actor=user,
        obj=item,
        detail={"step": step},
    )
