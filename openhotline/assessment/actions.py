"""Classifying media items, four-eyes confirmation, and finishing a reported URL."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.four_eyes import requires_confirmation
from openhotline.assessment.models import (
    Classification,
    ClassificationSource,
    ItemStatus,
    ReviewState,
    UrlAssessment,
)
from openhotline.assessment.signals import item_classification_in_force, url_assessed
from openhotline.assessment.vocabulary import FINAL_VERDICTS, Verdict, most_severe
from openhotline.audit.log import record
from openhotline.evidence.models import MediaItem
from openhotline.reports.actions import add_timeline, do_set_url_state
from openhotline.reports.models import ReportedUrl, UrlState

CLASSIFICATION_FIELDS = (
    "age_group",
    "gender",
    "is_virtual",
    "is_self_generated",
    "is_child_modelling",
    "is_commercial",
    "payment_method",
)


class AssessmentError(ValueError):
    """An assessment step that is not allowed, with the reason."""


def needs_confirmation(classification: Classification, *, new_material: bool) -> bool:
    """The four-eyes rule: what a senior analyst must confirm before it takes effect.

    Each hotline's admin decides, per verdict and for new or known material
    (``assessment.four_eyes``); by default a baseline verdict on new material
    (not recognised from a hash set) is confirmed before it enters our hash
    set or goes to INTERPOL. Machine classifications (hash matches, domain
    rules, forwarded ones) were decided elsewhere and are never held.
    """
    if classification.source != ClassificationSource.ANALYST:
        return False
    return requires_confirmation(
        classification.hotline_id, classification.verdict, new_material=new_material
    )


def _is_senior(user: User, hotline: Organisation) -> bool:
    return user.memberships.filter(
        organisation=hotline, role__in=[Role.SENIOR_ANALYST, Role.ADMIN]
    ).exists()


def _announce(status: ItemStatus) -> None:
    if status.is_in_force():
        transaction.on_commit(
            lambda: item_classification_in_force.send(sender=ItemStatus, status=status)
        )


def do_classify_item(
    hotline: Organisation,
    media_item: MediaItem,
    verdict: str,
    *,
    analyst: User | None,
    source: str = ClassificationSource.ANALYST,
    reason: str = "",
    reported_url: ReportedUrl | None = None,
    new_material: bool = True,
    **attributes: Any,
) -> ItemStatus:
    """Record a classification and put it in force, or up for confirmation."""
    if verdict not in Verdict.values:
        raise AssessmentError(f"unknown verdict {verdict!r}")
    unknown = set(attributes) - set(CLASSIFICATION_FIELDS)
    if unknown:
        raise AssessmentError(f"unknown attributes: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        classification = Classification.objects.create(
            hotline=hotline,
            media_item=media_item,
            verdict=verdict,
            source=source,
            reason=reason,
            analyst=analyst,
            reported_url=reported_url,
            **attributes,
        )
        state = (
            ReviewState.AWAITING_CONFIRMATION
            if needs_confirmation(classification, new_material=new_material)
            else ReviewState.FINAL
        )
        status, _ = ItemStatus.objects.update_or_create(
            hotline=hotline,
            media_item=media_item,
            defaults={
                "current": classification,
                "review_state": state,
                "confirmed_by": None,
                "confirmed_at": None,
            },
        )
        record(
            "media.classified",
            actor=analyst,
            organisation=hotline,
            obj=media_item,
            detail={"verdict": verdict, "source": source, "review": state, "reason": reason},
        )
        _announce(status)
    return status


def do_confirm_item(status: ItemStatus, senior: User, *, agree: bool, **override: Any) -> None:
    """A senior analyst confirms a classification awaiting four-eyes, or disagrees.

    Agreeing puts it in force. Disagreeing records the senior's own
    classification (``override``: verdict and attributes) and marks the item
    disputed, for a third analyst to settle with ``do_settle_dispute``.
    """
    hotline = status.hotline
    if not _is_senior(senior, hotline):
        raise AssessmentError("only a senior analyst of this hotline can confirm")
    if status.review_state != ReviewState.AWAITING_CONFIRMATION:
        raise AssessmentError("this classification is not awaiting confirmation")
    if status.current.analyst_id == senior.pk:
        raise AssessmentError("a classification is confirmed by a second person")
    with transaction.atomic():
        if agree:
            status.review_state = ReviewState.FINAL
            status.confirmed_by = senior
            status.confirmed_at = timezone.now()
            status.save(update_fields=["review_state", "confirmed_by", "confirmed_at"])
            record(
                "media.classification_confirmed",
                actor=senior,
                organisation=hotline,
                obj=status.media_item,
                detail={"verdict": status.current.verdict},
            )
            _announce(status)
            return
        verdict = override.pop("verdict", None)
        if verdict not in Verdict.values:
            raise AssessmentError("a disagreement gives the senior analyst's own verdict")
        counter = Classification.objects.create(
            hotline=hotline,
            media_item=status.media_item,
            verdict=verdict,
            analyst=senior,
            reported_url=status.current.reported_url,
            **override,
        )
        status.review_state = ReviewState.DISPUTED
        status.save(update_fields=["review_state"])
        record(
            "media.classification_disputed",
            actor=senior,
            organisation=hotline,
            obj=status.media_item,
            detail={"first": status.current.verdict, "second": counter.verdict},
        )


def do_settle_dispute(status: ItemStatus, analyst: User, verdict: str, **attributes: Any) -> None:
    """A third analyst (neither of the two who disagreed) decides."""
    if status.review_state != ReviewState.DISPUTED:
        raise AssessmentError("this classification is not disputed")
    involved = set(
        Classification.objects.filter(
            hotline=status.hotline,
            media_item=status.media_item,
            created_at__gte=status.current.created_at,
        ).values_list("analyst_id", flat=True)
    )
    if analyst.pk in involved:
        raise AssessmentError("a dispute is settled by a third analyst")
    with transaction.atomic():
        settled = Classification.objects.create(
            hotline=status.hotline,
            media_item=status.media_item,
            verdict=verdict,
            analyst=analyst,
            reported_url=status.current.reported_url,
            **attributes,
        )
        status.current = settled
        status.review_state = ReviewState.FINAL
        status.confirmed_by = analyst
        status.confirmed_at = timezone.now()
        status.save(update_fields=["current", "review_state", "confirmed_by", "confirmed_at"])
        record(
            "media.dispute_settled",
            actor=analyst,
            organisation=status.hotline,
            obj=status.media_item,
            detail={"verdict": verdict},
        )
        _announce(status)


def derive_url_verdict(reported_url: ReportedUrl) -> str | None:
    """The verdict of a page: that of its most severe item."""
    verdicts = list(
        ItemStatus.objects.filter(
            hotline=reported_url.hotline,
            media_item__url_links__reported_url=reported_url,
        ).values_list("current__verdict", flat=True)
    )
    return most_severe(verdicts)


def do_finish_url(
    reported_url: ReportedUrl,
    analyst: User,
    *,
    site_type: str = "",
    domain_dedicated: bool = False,
    verdict: str | None = None,
    memo: str = "",
) -> UrlAssessment:
    """Finish a reported URL: derive its verdict and hand it to routing.

    ``verdict`` is needed only for a page without classified media (for
    example a text page linking to material).
    """
    derived = derive_url_verdict(reported_url)
    final = derived or verdict
    if final is None:
        raise AssessmentError("classify the page's items, or give the page a verdict")
    if final not in FINAL_VERDICTS:
        raise AssessmentError(
            "items still need a second opinion or are not assessable; settle them first"
        )
    with transaction.atomic():
        assessment, _ = UrlAssessment.objects.update_or_create(
            reported_url=reported_url,
            defaults={
                "verdict": final,
                "site_type": site_type or "not_determined",
                "domain_dedicated": domain_dedicated,
                "memo": memo,
                "assessed_by": analyst,
                "assessed_at": timezone.now(),
            },
        )
        reported_url.assessed_at = assessment.assessed_at
        reported_url.save(update_fields=["assessed_at"])
        new_state = UrlState.ILLEGAL if assessment.is_illegal() else UrlState.NOT_ILLEGAL
        do_set_url_state(reported_url, new_state, actor=analyst, message=f"Assessed: {final}")
        add_timeline(
            f"Assessment finished: {final}",
            kind="url.assessed",
            reported_url=reported_url,
            actor=analyst,
            detail={"verdict": final, "site_type": assessment.site_type},
        )
        record(
            "reported_url.assessed",
            actor=analyst,
            organisation=reported_url.hotline,
            obj=reported_url,
            detail={"verdict": final},
        )
        transaction.on_commit(
            lambda: url_assessed.send(
                sender=UrlAssessment, reported_url=reported_url, assessment=assessment
            )
        )
    return assessment
