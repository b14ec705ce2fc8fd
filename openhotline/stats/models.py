"""Facts: narrow copies of the rows the statistics read, kept in step as events happen.

The working tables are wide (URLs, descriptions, JSON) and keep times as
timestamps; a dashboard over a million reported URLs cannot scan them and
subtract timestamps row by row within a second, least of all on SQLite,
where each timestamp is text. A fact row holds what the figures need:
the hotline, the moment that places it in a period, the hosting country,
the verdict, and each duration already in whole seconds. Receivers
(``receivers.py``) update a fact in the transaction that
changes its source; ``rebuild.py`` recomputes them all (nightly, and by
``openhotline stats rebuild``), which repairs anything a bulk update
bypassed.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q

# Durations whose percentiles are asked for; each has an index that lists the
# durations in order with the filter columns beside them (see percentiles.py).
DURATION_FIELDS = (
    "assessed_s",
    "referral_s",
    "notice_s",
    "removal_s",
    "referral_system_s",
    "notice_system_s",
    "notice_hold_s",
)


def _duration_index(field: str, name: str) -> models.Index:
    return models.Index(
        fields=[field, "hotline", "reported_at", "country"],
        condition=Q(**{f"{field}__isnull": False}),
        name=name,
    )


class UrlFact(models.Model):
    """One reported URL; every duration counts from the moment it was first reported."""

    reported_url = models.OneToOneField(
        "reports.ReportedUrl", models.CASCADE, primary_key=True, related_name="stats_fact"
    )
    hotline = models.ForeignKey(
        "accounts.Organisation", models.CASCADE, related_name="+", db_index=False
    )
    reported_at = models.DateTimeField()
    country = models.CharField(max_length=2, blank=True)
    # The URL's assessment (assessment.Verdict), empty until it is assessed.
    verdict = models.CharField(max_length=20, blank=True)
    illegal = models.BooleanField(default=False)
    assessed_s = models.BigIntegerField(null=True, blank=True)
    referral_s = models.BigIntegerField(null=True, blank=True)
    notice_s = models.BigIntegerField(null=True, blank=True)
    removal_s = models.BigIntegerField(null=True, blank=True)
    # From the first notice to the removal: how fast the hoster acted.
    removal_after_notice_s = models.BigIntegerField(null=True, blank=True)
    # The takedown case's abuse contact (takedown.AbuseContact), a plain id so that
    # this table does not depend on the takedown app's migrations (see sources.py).
    contact_pk = models.BigIntegerField(null=True, blank=True)
    # The time the system took once the verdict was in force, apart from the people
    # before it: to the first police referral, and to the first notice without the
    # police-first hold, which is policy, not system time (``notice_hold_s``).
    referral_system_s = models.BigIntegerField(null=True, blank=True)
    notice_system_s = models.BigIntegerField(null=True, blank=True)
    notice_hold_s = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["hotline", "reported_at"], name="stats_url_hotline_time"),
            # Counts by verdict read this index alone, already grouped.
            models.Index(
                fields=["verdict", "hotline", "reported_at", "country"], name="stats_url_verdict"
            ),
            models.Index(
                fields=["illegal", "country", "hotline", "reported_at"],
                condition=Q(illegal=True),
                name="stats_url_illegal_country",
            ),
            _duration_index("assessed_s", "stats_url_assessed"),
            _duration_index("referral_s", "stats_url_referral"),
            _duration_index("notice_s", "stats_url_notice"),
            _duration_index("removal_s", "stats_url_removal"),
            _duration_index("referral_system_s", "stats_url_referral_system"),
            _duration_index("notice_system_s", "stats_url_notice_system"),
            _duration_index("notice_hold_s", "stats_url_notice_hold"),
            models.Index(
                fields=[
                    "contact_pk",
                    "removal_after_notice_s",
                    "hotline",
                    "reported_at",
                    "country",
                ],
                condition=Q(contact_pk__isnull=False, removal_after_notice_s__isnull=False),
                name="stats_url_contact_removal",
            ),
        ]

    def __str__(self) -> str:
        return f"fact of URL {self.reported_url_id}"


class ReportFact(models.Model):
    """One report: who received it, when, and how it came in."""

    report = models.OneToOneField(
        "reports.Report", models.CASCADE, primary_key=True, related_name="stats_fact"
    )
    hotline = models.ForeignKey(
        "accounts.Organisation", models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField()
    source = models.CharField(max_length=20)

    class Meta:
        indexes: ClassVar = [
            # Counts by source read this index alone, already grouped.
            models.Index(fields=["source", "hotline", "created_at"], name="stats_report_source"),
        ]

    def __str__(self) -> str:
        return f"fact of report {self.report_id}"


class ItemFact(models.Model):
    """The classification in force of one media item at one hotline.

    ``known``: the hotline has a hash-set match for the item (known material),
    as the priority rules count it. ``classified_at`` is when the
    classification in force was made; it places the item in a period.
    """

    status = models.OneToOneField(
        "assessment.ItemStatus", models.CASCADE, primary_key=True, related_name="stats_fact"
    )
    hotline = models.ForeignKey(
        "accounts.Organisation", models.CASCADE, related_name="+", db_index=False
    )
    media_item = models.ForeignKey(
        "evidence.MediaItem", models.CASCADE, related_name="+", db_index=False
    )
    classified_at = models.DateTimeField()
    in_force = models.BooleanField(default=True)
    verdict = models.CharField(max_length=20)
    age_group = models.CharField(max_length=20)
    gender = models.CharField(max_length=20)
    is_virtual = models.BooleanField(default=False)
    is_self_generated = models.BooleanField(default=False)
    is_child_modelling = models.BooleanField(default=False)
    is_commercial = models.BooleanField(default=False)
    known = models.BooleanField(default=False)
    # A person saw the item unblurred (a reveal step, grey or colour, in the audit
    # log, by anyone: analyst, senior or police). Exposure is the share with it set.
    revealed = models.BooleanField(default=False)

    class Meta:
        indexes: ClassVar = [
            # The counts by attribute read this index alone, already grouped.
            models.Index(
                fields=[
                    "in_force",
                    "verdict",
                    "age_group",
                    "gender",
                    "known",
                    "hotline",
                    "classified_at",
                    "is_virtual",
                    "is_self_generated",
                    "is_child_modelling",
                    "is_commercial",
                ],
                name="stats_item_attributes",
            ),
            models.Index(
                fields=["known", "revealed", "hotline", "classified_at"],
                name="stats_item_exposure",
            ),
        ]

    def __str__(self) -> str:
        return f"fact of item status {self.status_id}"
