"""Rescore reported URLs when something their priority rules look at changes; start the
wellbeing clock at login.

A media item stored on a URL arrives as ``evidence.signals.media_stored``;
the other changes are still post-save receivers on rows of reports and
assessment.

Connected in ``AssessmentConfig.ready``. Each receiver only notes the URL
ids; ``tasks.schedule_recompute`` sends one task per transaction, after
it commits.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from openhotline.assessment.actions.wellbeing import take_break
from openhotline.assessment.models import Classification, ClassificationSource
from openhotline.assessment.tasks import schedule_recompute
from openhotline.evidence.models import UrlMedia
from openhotline.evidence.signals import media_stored
from openhotline.reports.models import Report, ReportedUrl, ReportLink

# Fields of a reported URL that a rule reads.
SCORED_FIELDS = {"hosting_country", "hotline", "created_at"}


@receiver(post_save, sender=ReportLink, dispatch_uid="assessment.score_on_report_link")
def _on_report_link(sender: Any, instance: ReportLink, created: bool, **kwargs: Any) -> None:
    if created:
        schedule_recompute([instance.reported_url_id])


@receiver(post_save, sender=Report, dispatch_uid="assessment.score_on_report")
def _on_report(sender: Any, instance: Report, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if not created and (fields is None or "escalated" in fields):
        schedule_recompute(instance.urls.values_list("pk", flat=True))


@receiver(post_save, sender=ReportedUrl, dispatch_uid="assessment.score_on_reported_url")
def _on_reported_url(sender: Any, instance: ReportedUrl, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if created or fields is None or SCORED_FIELDS & set(fields):
        schedule_recompute([instance.pk])


@receiver(media_stored, dispatch_uid="assessment.score_on_url_media")
def _on_media_stored(sender: Any, link: UrlMedia, **kwargs: Any) -> None:
    schedule_recompute([link.reported_url_id])


@receiver(post_save, sender=Classification, dispatch_uid="assessment.score_on_match")
def _on_classification(sender: Any, instance: Classification, created: bool, **kwargs: Any) -> None:
    # A hash match makes an item known (and may suggest an age group) on every
    # page of this hotline that shows it.
    if created and instance.source == ClassificationSource.HASH_MATCH:
        schedule_recompute(
            UrlMedia.objects.filter(
                media_item_id=instance.media_item_id,
                reported_url__hotline_id=instance.hotline_id,
            ).values_list("reported_url_id", flat=True)
        )


@receiver(user_logged_in, dispatch_uid="assessment.wellbeing_clock")
def _on_login(sender: Any, request: Any, **kwargs: Any) -> None:
    # The break reminder counts working time from the login.
    if request is not None and hasattr(request, "session"):
        take_break(request.session)
