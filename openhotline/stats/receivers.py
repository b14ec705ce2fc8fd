"""Keep the facts in step with the rows they are computed from.

Reports, reported URLs, assessments, classifications, police referrals,
takedown cases and the audit entries of a reveal (what else the statistics
read from the network and takedown apps is listed in ``sources.py``).
Connected in ``StatsConfig.ready``. Each receiver recomputes the facts it
touches in the transaction that made the change, so the figures never lag
behind a commit.
A deletion recomputes after the commit instead: the row it refers to may be
going in the same deletion.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from openhotline.assessment.models import (
    Classification,
    ClassificationSource,
    ItemStatus,
    UrlAssessment,
)
from openhotline.audit.models import AuditEvent
from openhotline.network.models import PoliceReferral
from openhotline.reports.models import Report, ReportedUrl
from openhotline.stats.rebuild import (
    MEDIA_OBJECT,
    REVEAL_ACTIONS,
    refresh_item_facts,
    refresh_report_facts,
    refresh_url_facts,
)
from openhotline.takedown.models import TakedownCase

# Fields of a reported URL or report that a fact reads.
URL_FIELDS = {"hotline", "created_at", "hosting_country", "assessed_at", "removed_at"}
REPORT_FIELDS = {"hotline", "created_at", "source"}
# Fields of a takedown case that a fact reads.
CASE_FIELDS = {"first_notice_at", "contact", "reported_url", "not_before"}


def _touches(kwargs: dict[str, Any], created: bool, fields: set[str]) -> bool:
    changed = kwargs.get("update_fields")
    return created or changed is None or bool(fields & set(changed))


@receiver(post_save, sender=ReportedUrl, dispatch_uid="stats.fact_on_reported_url")
def _on_reported_url(sender: Any, instance: ReportedUrl, created: bool, **kwargs: Any) -> None:
    if _touches(kwargs, created, URL_FIELDS):
        refresh_url_facts([instance.pk])


@receiver(post_save, sender=Report, dispatch_uid="stats.fact_on_report")
def _on_report(sender: Any, instance: Report, created: bool, **kwargs: Any) -> None:
    if _touches(kwargs, created, REPORT_FIELDS):
        refresh_report_facts([instance.pk])


@receiver(post_save, sender=UrlAssessment, dispatch_uid="stats.fact_on_assessment")
def _on_assessment(sender: Any, instance: UrlAssessment, **kwargs: Any) -> None:
    refresh_url_facts([instance.reported_url_id])


@receiver(post_delete, sender=UrlAssessment, dispatch_uid="stats.fact_on_assessment_delete")
def _on_assessment_delete(sender: Any, instance: UrlAssessment, **kwargs: Any) -> None:
    url_id = instance.reported_url_id
    transaction.on_commit(lambda: refresh_url_facts([url_id]))


@receiver(post_save, sender=ItemStatus, dispatch_uid="stats.fact_on_item_status")
def _on_item_status(sender: Any, instance: ItemStatus, **kwargs: Any) -> None:
    refresh_item_facts([instance.pk])


@receiver(post_save, sender=Classification, dispatch_uid="stats.fact_on_hash_match")
def _on_classification(sender: Any, instance: Classification, created: bool, **kwargs: Any) -> None:
    # A hash match makes the item known material at this hotline.
    if created and instance.source == ClassificationSource.HASH_MATCH:
        refresh_item_facts(
            ItemStatus.objects.filter(
                hotline_id=instance.hotline_id, media_item_id=instance.media_item_id
            ).values_list("pk", flat=True)
        )


@receiver(post_save, sender=PoliceReferral, dispatch_uid="stats.fact_on_referral")
def _on_referral(sender: Any, instance: PoliceReferral, **kwargs: Any) -> None:
    refresh_url_facts([instance.reported_url_id])


@receiver(post_delete, sender=PoliceReferral, dispatch_uid="stats.fact_on_referral_delete")
def _on_referral_delete(sender: Any, instance: PoliceReferral, **kwargs: Any) -> None:
    # After commit: the URL itself may be going in the same deletion.
    url_id = instance.reported_url_id
    transaction.on_commit(lambda: refresh_url_facts([url_id]))


@receiver(post_save, sender=TakedownCase, dispatch_uid="stats.fact_on_case")
def _on_case(sender: Any, instance: TakedownCase, created: bool, **kwargs: Any) -> None:
    if _touches(kwargs, created, CASE_FIELDS):
        refresh_url_facts([instance.reported_url_id])


@receiver(post_delete, sender=TakedownCase, dispatch_uid="stats.fact_on_case_delete")
def _on_case_delete(sender: Any, instance: TakedownCase, **kwargs: Any) -> None:
    url_id = instance.reported_url_id
    transaction.on_commit(lambda: refresh_url_facts([url_id]))


@receiver(post_save, sender=AuditEvent, dispatch_uid="stats.fact_on_reveal")
def _on_audit_event(sender: Any, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
    # A person saw an item unblurred: its facts at every hotline count it as revealed.
    if created and instance.action in REVEAL_ACTIONS and instance.object_type == MEDIA_OBJECT:
        refresh_item_facts(
            ItemStatus.objects.filter(media_item__code=instance.object_id).values_list(
                "pk", flat=True
            )
        )
