"""Storing evidence and media, and the audited ways of looking at it."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.evidence.models import Blob, MediaItem, MediaKind, StorageAlarm, UrlMedia
from openhotline.evidence.signals import media_stored
from openhotline.evidence.store import get_store
from openhotline.reports.models import ReportedUrl

logger = logging.getLogger(__name__)


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
    page_url: str = "",
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
            do_link_media(
                reported_url, item, source_url=source_url, found_in=found_in, page_url=page_url
            )
        if created:
            queue_hashing(item.pk)
    return item, created


def do_link_media(
    reported_url: ReportedUrl,
    item: MediaItem,
    *,
    source_url: str,
    found_in: str = "",
    page_url: str = "",
) -> tuple[UrlMedia, bool]:
    """Link ``item`` to the URL it was found on (once); a new link sends ``media_stored``.

    ``page_url`` is the page of the URL's gallery the item was on, when the
    crawler followed the URL's links to it; the first page an item was seen
    on stays.

    Every ``UrlMedia`` row is made here, so the apps that react to new media
    (see ``evidence.signals``) hear of each one.
    """
    with transaction.atomic():
        link, created = UrlMedia.objects.get_or_create(
            reported_url=reported_url,
            media_item=item,
            defaults={"source_url": source_url, "found_in": found_in, "page_url": page_url},
        )
        if created:
            media_stored.send(sender=UrlMedia, link=link)
    return link, created


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


def hotline_evidence_bytes(hotline: Organisation) -> int:
    """Bytes of the media stored for ``hotline``'s URLs (each item counted once)."""
    total = (
        MediaItem.objects.filter(url_links__reported_url__hotline=hotline)
        .distinct()
        .aggregate(total=Sum("size"))["total"]
    )
    return int(total or 0)


def do_check_storage(hotline: Organisation) -> StorageAlarm | None:
    """Raise or clear ``hotline``'s storage alarm; returns the alarm while it stands.

    1. Measure the hotline's evidence against OPENHOTLINE_EVIDENCE_ALARM_BYTES.
    2. Over it: create the alarm once (audited and logged), or refresh its figure.
    3. Under it (or no threshold): clear a standing alarm, audited.
    Safe to run from several workers at once: the hotline has one alarm row at most.
    """
    threshold = settings.OPENHOTLINE_EVIDENCE_ALARM_BYTES
    used = hotline_evidence_bytes(hotline)
    now = timezone.now()
    with transaction.atomic():
        if threshold and used > threshold:
            alarm, created = StorageAlarm.objects.get_or_create(
                hotline=hotline,
                defaults={"bytes_stored": used, "threshold": threshold, "raised_at": now},
            )
            if created:
                logger.warning(
                    "storage alarm: hotline %s stores %d bytes of evidence, over %d",
                    hotline.slug,
                    used,
                    threshold,
                )
                record(
                    "evidence.storage_alarm_raised",
                    organisation=hotline,
                    obj=hotline,
                    detail={"bytes_stored": used, "threshold": threshold},
                )
            else:
                StorageAlarm.objects.filter(pk=alarm.pk).update(
                    bytes_stored=used, threshold=threshold, checked_at=now
                )
            return alarm
        deleted, _ = StorageAlarm.objects.filter(hotline=hotline).delete()
        if deleted:
            record(
                "evidence.storage_alarm_cleared",
                organisation=hotline,
                obj=hotline,
                detail={"bytes_stored": used, "threshold": threshold},
            )
    return None
