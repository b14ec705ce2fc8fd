"""Stored evidence: encrypted blobs and the media items found on reported pages.

A ``MediaItem`` is one unique piece of content (by SHA-256), however many
pages it was found on. It belongs to no hotline; hotlines reach it through
``UrlMedia`` rows that link it to their reported URLs, and every view of it
goes through ``evidence.access``.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.lib.codes import random_code


class Blob(models.Model):
    """One piece of content in the encrypted store (see lib/blobstore.py)."""

    sha256 = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=64)
    size = models.BigIntegerField()
    mime = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    OTHER = "other", _("Other")


class HashState(models.TextChoices):
    PENDING = "pending", _("Waiting to be hashed")
    DONE = "done", _("Hashed")
    UNDECODABLE = "undecodable", _("Could not be decoded")


def new_media_code() -> str:
    return random_code(12, group=6)


class MediaItem(models.Model):
    code = models.CharField(max_length=20, unique=True, default=new_media_code)
    blob = models.OneToOneField(Blob, models.PROTECT, related_name="media_item")
    sha256 = models.CharField(max_length=64, unique=True)
    md5 = models.CharField(max_length=32, db_index=True)
    sha1 = models.CharField(max_length=40, db_index=True)
    size = models.BigIntegerField()
    mime = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10, choices=MediaKind.choices, default=MediaKind.OTHER)
    hash_state = models.CharField(
        max_length=20, choices=HashState.choices, default=HashState.PENDING
    )
    hash_error = models.CharField(max_length=500, blank=True)
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    # PyAV names containers by their aliases, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
    format = models.CharField(max_length=100, blank=True)
    frames = models.IntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    codec = models.CharField(max_length=40, blank=True)
    exif = models.JSONField(default=dict, blank=True)
    pdq = models.CharField(max_length=64, blank=True, db_index=True)
    pdq_quality = models.IntegerField(null=True, blank=True)
    # The eight rotations and mirrorings of the image, so turned copies match.
    pdq_dihedral = models.JSONField(default=list, blank=True)
    # Per sampled video frame: [pdq_hex, quality, seconds].
    vpdq = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.code

    def is_hashed(self) -> bool:
        return self.hash_state != HashState.PENDING


class UrlMedia(models.Model):
    """A media item as found on a reported URL: where, and how it was referenced."""

    reported_url = models.ForeignKey(
        "reports.ReportedUrl", models.CASCADE, related_name="media_links"
    )
    media_item = models.ForeignKey(MediaItem, models.PROTECT, related_name="url_links")
    source_url = models.TextField()
    found_in = models.CharField(max_length=50, blank=True)
    # The page the item was found on: the reported URL, or one of its gallery's
    # pages the crawler followed (empty: the reported URL). The review groups by it.
    page_url = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["reported_url", "media_item"], name="unique_media_per_url"
            )
        ]

    def __str__(self) -> str:
        return f"{self.media_item_id} on {self.reported_url_id}"


class StorageAlarm(models.Model):
    """A hotline's stored evidence passed OPENHOTLINE_EVIDENCE_ALARM_BYTES.

    One row per hotline while it is over (the OneToOne key makes a second
    alarm impossible, even from two workers at once); it goes when a check
    finds the hotline back under. Its admins see it on the storage page.
    """

    hotline = models.OneToOneField(
        "accounts.Organisation", models.CASCADE, related_name="storage_alarm"
    )
    bytes_stored = models.BigIntegerField()
    threshold = models.BigIntegerField()
    raised_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.hotline_id}: {self.bytes_stored} > {self.threshold}"
