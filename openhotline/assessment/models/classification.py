"""Classifications of media items and assessments of reported URLs.

A media item is classified once per hotline (the law differs by country),
however many of that hotline's URLs show it. Every classification is kept:
``Classification`` rows are history, and ``ItemStatus`` points at the one
in force, with the four-eyes state.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.assessment.vocabulary import (
    ILLEGAL_VERDICTS,
    AgeGroup,
    Gender,
    SiteType,
    Verdict,
)


class ClassificationSource(models.TextChoices):
    ANALYST = "analyst", _("Analyst")
    HASH_MATCH = "hash_match", _("Hash-set match")
    DOMAIN_RULE = "domain_rule", _("Domain rule")
    FORWARDED = "forwarded", _("Forwarded by another hotline")


class Classification(models.Model):
    """One classification decision; rows are never changed."""

    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    media_item = models.ForeignKey(
        "evidence.MediaItem", models.CASCADE, related_name="classifications"
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    age_group = models.CharField(
        max_length=20, choices=AgeGroup.choices, default=AgeGroup.NOT_DETERMINED
    )
    gender = models.CharField(max_length=20, choices=Gender.choices, default=Gender.NOT_DETERMINED)
    is_virtual = models.BooleanField(default=False)
    is_self_generated = models.BooleanField(default=False)
    is_child_modelling = models.BooleanField(default=False)
    is_commercial = models.BooleanField(default=False)
    payment_method = models.CharField(max_length=100, blank=True)
    source = models.CharField(
        max_length=20, choices=ClassificationSource.choices, default=ClassificationSource.ANALYST
    )
    # Why a machine classified it, e.g. the hash set and the distance.
    reason = models.CharField(max_length=300, blank=True)
    # The analyst's own words: shown to whoever settles a dispute about it.
    note = models.CharField(max_length=500, blank=True)
    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The reported URL the analyst was working when classifying (context only).
    reported_url = models.ForeignKey(
        "reports.ReportedUrl", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        indexes: ClassVar = [models.Index(fields=["hotline", "media_item", "created_at"])]

    def __str__(self) -> str:
        return f"{self.media_item_id}: {self.verdict}"

    def is_illegal(self) -> bool:
        return self.verdict in ILLEGAL_VERDICTS


class ReviewState(models.TextChoices):
    FINAL = "final", _("In force")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting a senior analyst")
    DISPUTED = "disputed", _("Disputed: awaiting a third analyst")


class ItemStatus(models.Model):
    """The classification in force for one media item at one hotline."""

    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    media_item = models.ForeignKey("evidence.MediaItem", models.CASCADE, related_name="statuses")
    current = models.ForeignKey(Classification, models.PROTECT, related_name="+")
    review_state = models.CharField(
        max_length=30, choices=ReviewState.choices, default=ReviewState.FINAL
    )
    # The classification a confirmation or dispute is about, and who decided.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "media_item"], name="one_status_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.media_item_id}@{self.hotline_id}: {self.review_state}"

    def is_in_force(self) -> bool:
        return self.review_state == ReviewState.FINAL


class UrlAssessment(models.Model):
    """An analyst's finished assessment of one reported URL."""

    reported_url = models.OneToOneField(
        "reports.ReportedUrl", models.CASCADE, related_name="assessment"
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    site_type = models.CharField(
        max_length=30, choices=SiteType.choices, default=SiteType.NOT_DETERMINED
    )
    # The whole domain is dedicated to abuse material (allows domain-level blocking).
    domain_dedicated = models.BooleanField(default=False)
    memo = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assessed_at = models.DateTimeField(default=timezone.now)
    # When the verdict took effect: every classification behind it in force (confirmed
    # where the hotline's four-eyes rule asks for it). Nothing leaves the hotline before.
    in_force_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The four-eyes state of a verdict given to the page itself (a page without media).
    page_review_state = models.CharField(
        max_length=30, choices=ReviewState.choices, default=ReviewState.FINAL
    )
    # A second opinion on the page verdict (blind or not) that differed: the dispute.
    page_second_verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    page_second_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    page_second_note = models.CharField(max_length=500, blank=True)
    page_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    page_confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.reported_url_id}: {self.verdict}"

    def is_illegal(self) -> bool:
        return self.verdict in ILLEGAL_VERDICTS

    def is_in_force(self) -> bool:
        return self.in_force_at is not None
