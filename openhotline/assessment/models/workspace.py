"""The analyst workspace's state: claims, priority rules and scores, four-eyes rules.

All of it lives here rather than on ``ReportedUrl``: the queue's score is
written to ``ReportedUrl.priority`` (the column the queue sorts on), and its
explanation, the claim and the rules that produced it are kept beside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.assessment.vocabulary import SiteType, Verdict


class WorkspaceSettings(models.Model):
    """Per-hotline knobs of the workspace that an admin edits."""

    hotline = models.OneToOneField(
        "accounts.Organisation", models.CASCADE, related_name="workspace_settings"
    )
    # A claim nobody touched for this long is free for others to take.
    claim_idle_minutes = models.PositiveIntegerField(default=30)
    # Four-eyes: the confirmer gives a verdict before seeing the first analyst's.
    blind_confirmation = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"workspace settings of {self.hotline_id}"


class UrlClaim(models.Model):
    """One analyst works one reported URL at a time: the lock, with its last activity."""

    reported_url = models.OneToOneField(
        "reports.ReportedUrl", models.CASCADE, primary_key=True, related_name="claim"
    )
    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    analyst = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["hotline", "analyst"])]

    def __str__(self) -> str:
        return f"{self.reported_url_id} claimed by {self.analyst_id}"

    def is_live(self, idle_minutes: int, now: datetime | None = None) -> bool:
        moment = now if now is not None else timezone.now()
        return self.last_seen_at >= moment - timedelta(minutes=idle_minutes)


class RuleKind(models.TextChoices):
    NEW_MATERIAL = "new_material", _("New (unknown) material")
    YOUNGER_AGE = "younger_age", _("Younger age group suspected from matches")
    MEDIA_COUNT = "media_count", _("Number of media")
    OWN_COUNTRY = "own_country", _("Hosted in our own country")
    ESCALATED = "escalated", _("Escalated by a partner")
    REPORT_AGE = "report_age", _("Age of the report (days)")
    REPORT_COUNT = "report_count", _("Reports after the first")
    KNOWN_VIRAL = "known_viral", _("Known viral material")


class PriorityRule(models.Model):
    """One weighted term of a hotline's priority score.

    The score of a reported URL is the sum over enabled rules of
    ``weight × value``, where the value depends on the kind (see
    ``assessment.priority``): 0/1 for yes-or-no rules, a count for the
    counting rules, capped at ``cap`` when a cap is set.
    """

    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=RuleKind.choices)
    weight = models.IntegerField()
    cap = models.PositiveIntegerField(null=True, blank=True)
    # Known viral: a known item counts as viral once found on this many reported URLs.
    threshold = models.PositiveIntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "kind"], name="one_rule_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} × {self.weight}"


class UrlPriority(models.Model):
    """The computed score of a reported URL and why: shown beside it in the queue."""

    reported_url = models.OneToOneField(
        "reports.ReportedUrl", models.CASCADE, primary_key=True, related_name="priority_info"
    )
    score = models.IntegerField(default=0)
    # [{"kind", "label", "value", "weight", "points"}], in rule order.
    explanation = models.JSONField(default=list)
    new_items = models.PositiveIntegerField(default=0)
    known_items = models.PositiveIntegerField(default=0)
    report_count = models.PositiveIntegerField(default=0)
    # Sources of the reports naming the URL, comma-separated (public,partner).
    sources = models.CharField(max_length=100, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["known_items", "new_items"])]

    def __str__(self) -> str:
        return f"{self.reported_url_id}: {self.score}"

    def explained(self) -> list[dict[str, object]]:
        """The explanation with each rule named in the reader's language.

        The stored label is the English one of the moment it was scored (by a
        worker); the rule's kind names it again, translated, when it still exists.
        """
        kinds = set(RuleKind.values)
        return [
            {**line, "label": RuleKind(line["kind"]).label} if line.get("kind") in kinds else line
            for line in self.explanation
        ]

    def material(self) -> str:
        """ "new" when anything on the page is unknown, "known" when all of it is, else ""."""
        if self.new_items:
            return "new"
        if self.known_items:
            return "known"
        return ""


class Material(models.TextChoices):
    NEW = "new", _("New material, or a near (perceptual) match")
    KNOWN = "known", _("Exact hash match with a set the hotline trusts")


class FourEyesRule(models.Model):
    """Whether a verdict must be confirmed by a second person (a senior analyst).

    One row per verdict and material: "known" material is an item matched
    exactly (MD5, SHA-1, SHA-256) to a hash set the hotline trusts; anything
    else, a near PDQ match included, is "new".
    """

    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    material = models.CharField(max_length=10, choices=Material.choices)
    requires_confirmation = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["hotline", "verdict", "material"], name="one_four_eyes_rule"
            )
        ]

    def __str__(self) -> str:
        return f"{self.verdict}/{self.material}: {self.requires_confirmation}"


class ReviewDraft(models.Model):
    """What the analyst set on the page as a whole while reviewing it, saved at once."""

    reported_url = models.OneToOneField(
        "reports.ReportedUrl", models.CASCADE, primary_key=True, related_name="review_draft"
    )
    site_type = models.CharField(
        max_length=30, choices=SiteType.choices, default=SiteType.NOT_DETERMINED
    )
    domain_dedicated = models.BooleanField(default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"draft of {self.reported_url_id}: {self.site_type}"
