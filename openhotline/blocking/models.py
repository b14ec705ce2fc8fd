"""The blocklist: entries, where they come from, and the versions published to providers.

Each hotline keeps its own list. An entry names a URL, or a whole host or a whole
domain when an analyst (or the source of an imported list) marks the name as
dedicated to abuse material. It is proposed, approved by a second person (four-eyes), goes live with
the next publication, and is delisted by the same two-step route.

A publication is a numbered version of the list. Which entries a version holds is
kept as spans ("live from version 3 until version 7"), so a version of a million
entries costs nothing to keep, any version can be rebuilt exactly, and the
difference between two versions is a small query.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.lib.codes import random_code


class EntryKind(models.TextChoices):
    URL = "url", _("URL")
    # One host name exactly, not the names below it: a host dedicated to abuse
    # material on a domain that is not (``gallery.shared.example``).
    HOST = "host", _("Whole host")
    DOMAIN = "domain", _("Whole domain")


# The kinds DNS exports carry: names the hotline chose to block whole. A URL entry
# never widens into its host there (one image on a shared host must not take the
# host off the internet); it goes only to the URL-capable exports.
WHOLE_NAME_KINDS = (EntryKind.HOST, EntryKind.DOMAIN)


class EntryState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    LIVE = "live", _("Live")
    DELISTED = "delisted", _("Delisted")


# States in which an entry is on, or on its way to, the list; one such entry per value.
ACTIVE_STATES = (EntryState.PROPOSED, EntryState.APPROVED, EntryState.LIVE)


class SourceKind(models.TextChoices):
    ASSESSMENT = "assessment", _("Our assessment")
    HOTLINE = "hotline", _("Another hotline")
    IMPORT = "import", _("Imported list")


def new_entry_code() -> str:
    return "B" + random_code(10, group=0)


class BlocklistSource(models.Model):
    """Where entries come from: our own assessment, a partner hotline, an imported list."""

    hotline = models.ForeignKey(
        "accounts.Organisation", models.CASCADE, related_name="blocklist_sources"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "name"], name="unique_source_name")
        ]

    def __str__(self) -> str:
        return self.name


class BlocklistEntry(models.Model):
    code = models.CharField(max_length=20, unique=True, default=new_entry_code)
    hotline = models.ForeignKey(
        "accounts.Organisation", models.PROTECT, related_name="blocklist_entries"
    )
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    # The canonical URL, or the name of a host- or domain-level entry.
    value = models.TextField()
    # The URL's host, or the name a resolver blocks (host and domain entries).
    host = models.CharField(max_length=255, db_index=True)
    dedicated = models.BooleanField(default=False)
    source = models.ForeignKey(BlocklistSource, models.PROTECT, related_name="entries")
    reason = models.CharField(max_length=500, blank=True)
    evidence = models.ForeignKey(
        "reports.ReportedUrl",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="blocklist_entries",
    )
    state = models.CharField(max_length=20, choices=EntryState.choices, default=EntryState.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    first_verified_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    listed_at = models.DateTimeField(null=True, blank=True)
    delisted_at = models.DateTimeField(null=True, blank=True)
    # A pending delisting: proposed by one person, approved by another, done at publication.
    delist_reason = models.CharField(max_length=500, blank=True)
    delist_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delist_proposed_at = models.DateTimeField(null=True, blank=True)
    delist_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delist_approved_at = models.DateTimeField(null=True, blank=True)
    # What last happened to it that the fields above do not say (a rollback, say).
    note = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-proposed_at"]
        indexes: ClassVar = [models.Index(fields=["hotline", "state"])]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["hotline", "kind", "value"],
                condition=Q(state__in=["proposed", "approved", "live"]),
                name="unique_active_entry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.value}"

    def is_live(self) -> bool:
        return self.state == EntryState.LIVE

    def awaits_approval(self) -> bool:
        return self.state == EntryState.PROPOSED

    def awaits_delisting_approval(self) -> bool:
        return (
            self.state in (EntryState.APPROVED, EntryState.LIVE)
            and self.delist_proposed_at is not None
            and self.delist_approved_at is None
        )

    def is_going_out(self) -> bool:
        """Approved for delisting; it leaves the list with the next publication."""
        return self.state == EntryState.LIVE and self.delist_approved_at is not None


class Publication(models.Model):
    """One version of a hotline's list; its serial is the RPZ zone's SOA serial."""

    hotline = models.ForeignKey(
        "accounts.Organisation", models.PROTECT, related_name="blocklist_publications"
    )
    serial = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entry_count = models.PositiveIntegerField(default=0)
    added_count = models.PositiveIntegerField(default=0)
    removed_count = models.PositiveIntegerField(default=0)
    # Set when this version restores an earlier one.
    restores_serial = models.PositiveIntegerField(null=True, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-serial"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "serial"], name="unique_publication_serial")
        ]

    def __str__(self) -> str:
        return f"{self.hotline_id} v{self.serial}"


class PublishedSpan(models.Model):
    """An entry is in every version from ``start_serial`` up to, not including, ``end_serial``."""

    hotline = models.ForeignKey("accounts.Organisation", models.PROTECT, related_name="+")
    entry = models.ForeignKey(BlocklistEntry, models.PROTECT, related_name="spans")
    start_serial = models.PositiveIntegerField()
    end_serial = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["hotline", "end_serial"]),
            models.Index(fields=["hotline", "start_serial"]),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} [{self.start_serial}, {self.end_serial})"


class ProtectedDomain(models.Model):
    """A hotline's own additions to the shipped list of names that must never be blocked."""

    hotline = models.ForeignKey(
        "accounts.Organisation", models.CASCADE, related_name="protected_domains"
    )
    name = models.CharField(max_length=255)
    note = models.CharField(max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "name"], name="unique_protected_domain")
        ]

    def __str__(self) -> str:
        return self.name


class FeedFetch(models.Model):
    """One fetch of the feed by a provider, so the hotline knows who is up to date."""

    isp = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    api_key = models.ForeignKey("accounts.ApiKey", models.SET_NULL, null=True, related_name="+")
    format = models.CharField(max_length=10)
    serial = models.PositiveIntegerField()
    since = models.PositiveIntegerField(null=True, blank=True)
    status = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [models.Index(fields=["hotline", "isp", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.isp_id} {self.format} v{self.serial} ({self.status})"


class StopPageSettings(models.Model):
    """What a hotline's stop page links to; empty fields fall back to the settings."""

    hotline = models.OneToOneField(
        "accounts.Organisation", models.CASCADE, related_name="stop_page_settings"
    )
    blocked_by_url = models.URLField(blank=True)
    complaint_contact = models.CharField(max_length=200, blank=True)
    help_name = models.CharField(max_length=200, blank=True)
    help_url = models.URLField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"stop page of {self.hotline_id}"


class StopPageText(models.Model):
    """An admin's wording of the stop page in one language (defaults: stoppage_texts.py)."""

    hotline = models.ForeignKey(
        "accounts.Organisation", models.CASCADE, related_name="stop_page_texts"
    )
    language = models.CharField(max_length=10)
    title = models.CharField(max_length=200)
    explanation = models.TextField()
    complaint = models.TextField()
    help = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "language"], name="unique_stop_text")
        ]

    def __str__(self) -> str:
        return f"{self.hotline_id} {self.language}"


class StopPageDailyCount(models.Model):
    """Visits of the stop page per day and blocked name; never who visited."""

    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    day = models.DateField()
    host = models.CharField(max_length=255)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "day", "host"], name="unique_stop_count")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.host}: {self.count}"
