"""Reports and the URLs they name.

A ``Report`` is one submission (public form, partner API, e-mail). Each URL
in it becomes, or links to, a ``ReportedUrl``: the unit that is crawled,
assessed, routed and followed until removal. Several reports can point at
one reported URL (deconfliction), and every step of its life is written to
its timeline.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.lib.codes import random_code


class ReportSource(models.TextChoices):
    PUBLIC = "public", _("Public form")
    PARTNER = "partner", _("Partner API")
    EMAIL = "email", _("E-mail")
    HOTLINE = "hotline", _("Another hotline")
    STAFF = "staff", _("Entered by staff")


class ReportState(models.TextChoices):
    """What a reporter may see: nothing about the content, only progress."""

    RECEIVED = "received", _("Received")
    ASSESSING = "assessing", _("Being assessed")
    CLOSED = "closed", _("Closed")


class UrlState(models.TextChoices):
    NEW = "new", _("New")
    CRAWLING = "crawling", _("Being crawled")
    CRAWL_FAILED = "crawl_failed", _("Crawl failed")
    AWAITING_ASSESSMENT = "awaiting_assessment", _("Awaiting assessment")
    ASSESSING = "assessing", _("Being assessed")
    ILLEGAL = "illegal", _("Assessed illegal")
    NOT_ILLEGAL = "not_illegal", _("Assessed not illegal")
    FORWARDED = "forwarded", _("Forwarded to another hotline")
    NOTICE_SENT = "notice_sent", _("Notice sent")
    REMOVED = "removed", _("Removed")
    CLOSED = "closed", _("Closed")


OPEN_URL_STATES = frozenset(
    {
        UrlState.NEW,
        UrlState.CRAWLING,
        UrlState.CRAWL_FAILED,
        UrlState.AWAITING_ASSESSMENT,
        UrlState.ASSESSING,
        UrlState.ILLEGAL,
        UrlState.NOTICE_SENT,
    }
)


def new_report_code() -> str:
    return random_code(10)


def new_url_code() -> str:
    return random_code(12, group=6)


class Report(models.Model):
    code = models.CharField(max_length=20, unique=True, default=new_report_code)
    hotline = models.ForeignKey("accounts.Organisation", models.PROTECT, related_name="reports")
    source = models.CharField(max_length=20, choices=ReportSource.choices)
    # The partner organisation or user that sent it, when not anonymous.
    submitted_by_org = models.ForeignKey(
        "accounts.Organisation", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        max_length=20, choices=ReportState.choices, default=ReportState.RECEIVED
    )
    description = models.TextField(blank=True)
    where_found = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)
    language = models.CharField(max_length=10, blank=True)
    escalated = models.BooleanField(default=False)
    incident_at = models.DateTimeField(null=True, blank=True)
    external_ref = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return self.code


class ReportedUrl(models.Model):
    code = models.CharField(max_length=20, unique=True, default=new_url_code)
    hotline = models.ForeignKey(
        "accounts.Organisation", models.PROTECT, related_name="reported_urls"
    )
    url = models.TextField()
    # Canonical form (intake's normaliser); deconfliction keys on it.
    normalized_url = models.TextField(db_index=True)
    host = models.CharField(max_length=255, blank=True, db_index=True)
    state = models.CharField(max_length=30, choices=UrlState.choices, default=UrlState.NEW)
    reports: models.ManyToManyField[Report, ReportLink] = models.ManyToManyField(
        Report, through="ReportLink", related_name="urls"
    )
    priority = models.IntegerField(default=0, db_index=True)
    hosting_country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    assessed_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-priority", "created_at"]
        indexes: ClassVar = [models.Index(fields=["hotline", "state", "-priority"])]
        constraints: ClassVar = [
            # One open reported URL per hotline and address: concurrent reports of
            # it link to that one (see docs/concurrency.md). A closed one may be
            # followed by a new one when the URL is reported again later.
            models.UniqueConstraint(
                fields=["hotline", "normalized_url"],
                condition=Q(state__in=sorted(OPEN_URL_STATES)),
                name="one_open_url_per_hotline",
            )
        ]

    def __str__(self) -> str:
        return self.url


class ReportLink(models.Model):
    report = models.ForeignKey(Report, models.CASCADE)
    reported_url = models.ForeignKey(ReportedUrl, models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["report", "reported_url"], name="unique_report_url")
        ]

    def __str__(self) -> str:
        return f"{self.report_id} → {self.reported_url_id}"


class TimelineEntry(models.Model):
    """One step in the life of a reported URL, shown to the hotline's analysts."""

    reported_url = models.ForeignKey(
        ReportedUrl, models.CASCADE, related_name="timeline", null=True, blank=True
    )
    report = models.ForeignKey(
        Report, models.CASCADE, related_name="timeline", null=True, blank=True
    )
    kind = models.CharField(max_length=50)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class DeconflictionLink(models.Model):
    """Another hotline of this installation has the same URL in its work.

    Analysts see only the other hotline's name, never its report or state.
    """

    reported_url = models.ForeignKey(
        "reports.ReportedUrl", models.CASCADE, related_name="deconfliction_links"
    )
    other_url = models.ForeignKey("reports.ReportedUrl", models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table kept its name when the model moved from intake, so no data moved.
        db_table = "intake_deconflictionlink"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["reported_url", "other_url"], name="unique_deconfliction_link"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reported_url_id} ~ {self.other_url_id}"
