"""Classifying media items, four-eyes confirmation, and finishing a reported URL.

A finished URL's verdict takes effect (``UrlAssessment.in_force_at``) only
once every classification behind it is in force: confirmed by a second
person where the hotline's four-eyes rule asks for it. Only then is
``url_assessed`` sent, and with it the referral, forward or notice (a
blocklist proposal follows later, from blocking's hourly sweep). A later
change to a shared item re-derives the verdict of every finished URL showing
it and sends ``url_verdict_changed``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from openhotline.accounts.access import has_role
from openhotline.accounts.models import SENIOR_ROLES, Organisation, User
from openhotline.assessment.actions.four_eyes import (
    is_known_material,
    requires_confirmation,
)
from openhotline.assessment.models import (
    Classification,
    ClassificationSource,
    ItemStatus,
    PriorityRule,
    ReviewState,
    UrlAssessment,
    WorkspaceSettings,
)
from openhotline.assessment.signals import (
    item_classification_in_force,
    url_assessed,
    url_verdict_changed,
)
from openhotline.assessment.vocabulary import (
    FINAL_VERDICTS,
    ILLEGAL_VERDICTS,
    Verdict,
    most_severe,
)
from openhotline.audit.log import record
from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.reports.actions import add_timeline, do_set_url_state
from openhotline.reports.models import ReportedUrl, UrlState

logger = logging.getLogger(__name__)

CLASSIFICATION_FIELDS = (
    "age_group",
    "gender",
    "is_virtual",
    "is_self_generated",
    "is_child_modelling",
    "is_commercial",
    "payment_method",
)
# Sources whose classifications follow the hotline's four-eyes rule. A forwarded
# classification was confirmed at the hotline that sent it; a domain rule is an
# admin's standing decision.
HELD_SOURCES = (ClassificationSource.ANALYST, ClassificationSource.HASH_MATCH)


class AssessmentError(ValueError):
    """An assessment step that is not allowed, with the reason."""


def needs_confirmation(classification: Classification, *, new_material: bool) -> bool:
    """The four-eyes rule: whether a second person confirms it before it takes effect.

    Each hotline's admin decides per verdict, for new material and for items
    matched exactly to a trusted hash set (``assessment.actions.four_eyes``).
    """
    if classification.source not in HELD_SOURCES:
        return False
    return requires_confirmation(
        classification.hotline_id, classification.verdict, new_material=new_material
    )


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
    note: str = "",
    reported_url: ReportedUrl | None = None,
    new_material: bool | None = None,
    force_confirmation: bool = False,
    **attributes: Any,
) -> ItemStatus:
    """Record a classification and put it in force, or up for confirmation.

    ``new_material`` is found from the item's hash matches unless the caller
    knows it; ``force_confirmation`` holds it for a second person whatever the
    rule (a changed verdict of an item that finished URLs share).
    """
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
            note=note[:500],
            analyst=analyst,
            reported_url=reported_url,
            **attributes,
        )
        if new_material is None:
            new_material = not is_known_material(hotline.pk, media_item.pk)
        held = needs_confirmation(classification, new_material=new_material) or (
            force_confirmation and source in HELD_SOURCES
        )
        state = ReviewState.AWAITING_CONFIRMATION if held else ReviewState.FINAL
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
        _took_effect(status, actor=analyst)
    return status


def _took_effect(status: ItemStatus, *, actor: User | None) -> None:
    """Announce an item's classification in force and refresh the finished URLs showing it."""
    if not status.is_in_force():
        return
    _announce(status)
    for assessment in finished_urls_showing(status.hotline_id, status.media_item_id):
        do_refresh_url_verdict(assessment, actor=actor)


def finished_urls_showing(hotline_id: int, media_item_id: int) -> list[UrlAssessment]:
    """The assessments of this hotline's finished URLs that show the item, oldest first."""
    return list(
        UrlAssessment.objects.filter(
            reported_url__hotline_id=hotline_id,
            reported_url__media_links__media_item_id=media_item_id,
        )
        .select_related("reported_url", "reported_url__hotline")
        .distinct()
        .order_by("assessed_at", "pk")
    )


def _check_confirmer(status: ItemStatus, senior: User) -> None:
    if not has_role(senior, status.hotline, SENIOR_ROLES):
        raise AssessmentError(gettext("only a senior analyst of this hotline can confirm"))
    if status.review_state != ReviewState.AWAITING_CONFIRMATION:
        raise AssessmentError(gettext("this classification is not awaiting confirmation"))
    if status.current.analyst_id == senior.pk:
        raise AssessmentError(gettext("a classification is confirmed by a second person"))


def do_second_opinion(status: ItemStatus, senior: User, verdict: str, *, note: str = "") -> str:
    """A senior analyst's verdict on a classification awaiting four-eyes; the new review state.

    The same verdict as the first analyst's confirms it and puts it in force;
    a different one records the senior's classification and opens a dispute
    for a third analyst (``do_settle_dispute``). With blind confirmation the
    senior chose without seeing the first verdict.
    """
    _check_confirmer(status, senior)
    if verdict not in FINAL_VERDICTS:
        raise AssessmentError(
            gettext("choose a verdict: baseline, nationally illegal or not illegal")
        )
    hotline = status.hotline
    with transaction.atomic():
        if verdict == status.current.verdict:
            status.review_state = ReviewState.FINAL
            status.confirmed_by = senior
            status.confirmed_at = timezone.now()
            status.save(update_fields=["review_state", "confirmed_by", "confirmed_at"])
            record(
                "media.classification_confirmed",
                actor=senior,
                organisation=hotline,
                obj=status.media_item,
                detail={"verdict": verdict, "note": note[:500]},
            )
            _took_effect(status, actor=senior)
            return status.review_state
        first = status.current
        counter = Classification.objects.create(
            hotline=hotline,
            media_item=status.media_item,
            verdict=verdict,
            analyst=senior,
            note=note[:500],
            reported_url=first.reported_url,
            **{field: getattr(first, field) for field in CLASSIFICATION_FIELDS},
        )
        status.review_state = ReviewState.DISPUTED
        status.save(update_fields=["review_state"])
        record(
            "media.classification_disputed",
            actor=senior,
            organisation=hotline,
            obj=status.media_item,
            detail={"first": first.verdict, "second": counter.verdict},
        )
        return status.review_state


def do_confirm_item(
    status: ItemStatus, senior: User, *, agree: bool, verdict: str | None = None, note: str = ""
) -> str:
    """Confirm the first verdict (``agree``), or disagree with a different verdict of one's own."""
    if agree:
        return do_second_opinion(status, senior, status.current.verdict, note=note)
    if verdict is None or verdict not in FINAL_VERDICTS:
        raise AssessmentError(gettext("a disagreement gives the senior analyst's own verdict"))
    if verdict == status.current.verdict:
        raise AssessmentError(
            gettext(
                "your verdict is the same as the first analyst's: confirm it instead of disagreeing"
            )
        )
    return do_second_opinion(status, senior, verdict, note=note)


def opinions(status: ItemStatus) -> list[Classification]:
    """The first classification and the opinions given on it since, oldest first."""
    return list(
        Classification.objects.filter(
            hotline_id=status.hotline_id,
            media_item_id=status.media_item_id,
            created_at__gte=status.current.created_at,
        )
        .select_related("analyst")
        .order_by("created_at", "pk")
    )


def do_settle_dispute(
    status: ItemStatus, analyst: User, verdict: str, *, note: str = "", **attributes: Any
) -> None:
    """A third analyst (neither of the two who disagreed) decides."""
    if status.review_state != ReviewState.DISPUTED:
        raise AssessmentError(gettext("this classification is not disputed"))
    if verdict not in FINAL_VERDICTS:
        raise AssessmentError(
            gettext("choose a verdict: baseline, nationally illegal or not illegal")
        )
    involved = {c.analyst_id for c in opinions(status)}
    if analyst.pk in involved:
        raise AssessmentError(gettext("a dispute is settled by a third analyst"))
    first = status.current
    values = {field: getattr(first, field) for field in CLASSIFICATION_FIELDS}
    values.update(attributes)
    with transaction.atomic():
        settled = Classification.objects.create(
            hotline=status.hotline,
            media_item=status.media_item,
            verdict=verdict,
            analyst=analyst,
            note=note[:500],
            reported_url=first.reported_url,
            **values,
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
            detail={"verdict": verdict, "note": note[:500]},
        )
        _took_effect(status, actor=analyst)


def _page_statuses(reported_url: ReportedUrl) -> tuple[list[int], dict[int, ItemStatus]]:
    item_ids = list(
        UrlMedia.objects.filter(reported_url=reported_url)
        .order_by("created_at", "pk")
        .values_list("media_item_id", flat=True)
    )
    statuses = {
        s.media_item_id: s
        for s in ItemStatus.objects.filter(
            hotline_id=reported_url.hotline_id, media_item_id__in=item_ids
        ).select_related("current", "media_item")
    }
    return item_ids, statuses


def derive_url_verdict(reported_url: ReportedUrl) -> str | None:
    """The verdict of a page: that of its most severe item."""
    _ids, statuses = _page_statuses(reported_url)
    return most_severe([s.current.verdict for s in statuses.values()])


def _verdict_in_force(assessment: UrlAssessment) -> str | None:
    """The page's verdict if everything behind it is in force, else None."""
    item_ids, statuses = _page_statuses(assessment.reported_url)
    if not item_ids:
        if assessment.page_review_state != ReviewState.FINAL:
            return None
        return assessment.verdict
    if len(statuses) != len(set(item_ids)):
        return None
    if any(not s.is_in_force() for s in statuses.values()):
        return None
    verdict = most_severe([s.current.verdict for s in statuses.values()])
    return verdict if verdict in FINAL_VERDICTS else None


def do_refresh_url_verdict(assessment: UrlAssessment, *, actor: User | None) -> None:
    """Put a finished URL's verdict in force once it can be, or follow a changed shared item.

    1. Nothing happens while any classification behind it awaits a second
       person: the URL keeps the effects of the verdict in force, if any.
    2. A verdict not yet in force takes effect: the URL's state follows it
       and ``url_assessed`` is sent (network routes it: referral, forward
       or takedown notice).
    3. A verdict in force that a shared item changed is replaced: the state
       follows, and ``url_verdict_changed`` lets each app undo or correct
       what it did (withdrawn referral, delisting, closed takedown case);
       a URL that became illegal is routed as a new one.
    """
    with transaction.atomic():
        assessment = (
            UrlAssessment.objects.select_for_update()
            .select_related("reported_url", "reported_url__hotline")
            .get(pk=assessment.pk)
        )
        url = assessment.reported_url
        verdict = _verdict_in_force(assessment)
        if verdict is None:
            return
        before = assessment.verdict
        was_in_force = assessment.is_in_force()
        if was_in_force and verdict == before:
            return
        assessment.verdict = verdict
        fields = ["verdict"]
        if not was_in_force:
            assessment.in_force_at = timezone.now()
            fields.append("in_force_at")
        assessment.save(update_fields=fields)
        illegal = verdict in ILLEGAL_VERDICTS
        state = UrlState.ILLEGAL if illegal else UrlState.NOT_ILLEGAL
        if not was_in_force or (before in ILLEGAL_VERDICTS) != illegal:
            if url.state != state:
                do_set_url_state(url, state, actor=actor, message=f"Verdict in force: {verdict}")
        if not was_in_force:
            add_timeline(
                f"Verdict in force: {verdict}",
                kind="url.verdict_in_force",
                reported_url=url,
                actor=actor,
                detail={"verdict": verdict},
            )
            record(
                "reported_url.verdict_in_force",
                actor=actor,
                organisation=url.hotline,
                obj=url,
                detail={"verdict": verdict},
            )
            transaction.on_commit(
                lambda: url_assessed.send(
                    sender=UrlAssessment, reported_url=url, assessment=assessment
                )
            )
            return
        add_timeline(
            f"Verdict changed by a shared item: {before} → {verdict}",
            kind="url.verdict_changed",
            reported_url=url,
            actor=actor,
            detail={"before": before, "after": verdict},
        )
        record(
            "reported_url.verdict_changed",
            actor=actor,
            organisation=url.hotline,
            obj=url,
            detail={"before": before, "after": verdict},
        )
        transaction.on_commit(
            lambda: url_verdict_changed.send(
                sender=UrlAssessment, reported_url=url, before=before, after=verdict
            )
        )
        if illegal and before not in ILLEGAL_VERDICTS:
            transaction.on_commit(
                lambda: url_assessed.send(
                    sender=UrlAssessment, reported_url=url, assessment=assessment
                )
            )


def do_finish_url(
    reported_url: ReportedUrl,
    analyst: User,
    *,
    site_type: str = "",
    domain_dedicated: bool = False,
    verdict: str | None = None,
    memo: str = "",
) -> UrlAssessment:
    """Finish a reported URL: every item needs an explicit verdict, a page without media too.

    The page's verdict is that of its most severe item; ``verdict`` is the
    page's own, needed (and used) only for a page without media. The verdict
    takes effect at once if nothing behind it waits for a second person, else
    when the last confirmation comes (``do_refresh_url_verdict``).
    """
    item_ids, statuses = _page_statuses(reported_url)
    hotline = reported_url.hotline
    if item_ids:
        missing = [pk for pk in dict.fromkeys(item_ids) if pk not in statuses]
        if missing:
            codes = ", ".join(
                MediaItem.objects.filter(pk__in=missing[:10]).values_list("code", flat=True)
            )
            raise AssessmentError(
                gettext("%(n)s item(s) have no verdict yet: choose one for each (%(codes)s)")
                % {"n": len(missing), "codes": codes}
            )
        final = most_severe([s.current.verdict for s in statuses.values()])
        page_state = ReviewState.FINAL
    else:
        if not verdict:
            raise AssessmentError(gettext("the page has no media: choose a verdict for the page"))
        if verdict not in FINAL_VERDICTS:
            raise AssessmentError(
                gettext("choose baseline, nationally illegal or not illegal for the page")
            )
        final = verdict
        page_state = (
            ReviewState.AWAITING_CONFIRMATION
            if requires_confirmation(hotline.pk, verdict, new_material=True)
            else ReviewState.FINAL
        )
    if final not in FINAL_VERDICTS:
        raise AssessmentError(
            gettext("items still need a second opinion or are not assessable; settle them first")
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
                "in_force_at": None,
                "page_review_state": page_state,
                "page_second_verdict": "",
                "page_second_by": None,
                "page_second_note": "",
                "page_confirmed_by": None,
                "page_confirmed_at": None,
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
            organisation=hotline,
            obj=reported_url,
            detail={"verdict": final},
        )
        do_refresh_url_verdict(assessment, actor=analyst)
        assessment.refresh_from_db()
    return assessment


def _check_page_confirmer(assessment: UrlAssessment, senior: User) -> None:
    if not has_role(senior, assessment.reported_url.hotline, SENIOR_ROLES):
        raise AssessmentError(gettext("only a senior analyst of this hotline can confirm"))
    if assessment.page_review_state != ReviewState.AWAITING_CONFIRMATION:
        raise AssessmentError(gettext("this page verdict is not awaiting confirmation"))
    if assessment.assessed_by_id == senior.pk:
        raise AssessmentError(gettext("a verdict is confirmed by a second person"))


def do_page_second_opinion(
    assessment: UrlAssessment, senior: User, verdict: str, *, note: str = ""
) -> str:
    """A second person's verdict on a page without media: the same confirms, else a dispute."""
    _check_page_confirmer(assessment, senior)
    if verdict not in FINAL_VERDICTS:
        raise AssessmentError(
            gettext("choose a verdict: baseline, nationally illegal or not illegal")
        )
    url = assessment.reported_url
    with transaction.atomic():
        if verdict == assessment.verdict:
            assessment.page_review_state = ReviewState.FINAL
            assessment.page_confirmed_by = senior
            assessment.page_confirmed_at = timezone.now()
            assessment.save(
                update_fields=["page_review_state", "page_confirmed_by", "page_confirmed_at"]
            )
            record(
                "reported_url.page_verdict_confirmed",
                actor=senior,
                organisation=url.hotline,
                obj=url,
                detail={"verdict": verdict, "note": note[:500]},
            )
            do_refresh_url_verdict(assessment, actor=senior)
            return ReviewState.FINAL
        assessment.page_review_state = ReviewState.DISPUTED
        assessment.page_second_verdict = verdict
        assessment.page_second_by = senior
        assessment.page_second_note = note[:500]
        assessment.save(
            update_fields=[
                "page_review_state",
                "page_second_verdict",
                "page_second_by",
                "page_second_note",
            ]
        )
        record(
            "reported_url.page_verdict_disputed",
            actor=senior,
            organisation=url.hotline,
            obj=url,
            detail={"first": assessment.verdict, "second": verdict},
        )
        return ReviewState.DISPUTED


def do_settle_page_dispute(
    assessment: UrlAssessment, analyst: User, verdict: str, *, note: str = ""
) -> None:
    """A third analyst decides the verdict of a page without media."""
    if assessment.page_review_state != ReviewState.DISPUTED:
        raise AssessmentError(gettext("this page verdict is not disputed"))
    if verdict not in FINAL_VERDICTS:
        raise AssessmentError(
            gettext("choose a verdict: baseline, nationally illegal or not illegal")
        )
    if analyst.pk in {assessment.assessed_by_id, assessment.page_second_by_id}:
        raise AssessmentError(gettext("a dispute is settled by a third analyst"))
    url = assessment.reported_url
    with transaction.atomic():
        assessment.verdict = verdict
        assessment.page_review_state = ReviewState.FINAL
        assessment.page_confirmed_by = analyst
        assessment.page_confirmed_at = timezone.now()
        assessment.save(
            update_fields=["verdict", "page_review_state", "page_confirmed_by", "page_confirmed_at"]
        )
        record(
            "reported_url.page_dispute_settled",
            actor=analyst,
            organisation=url.hotline,
            obj=url,
            detail={"verdict": verdict, "note": note[:500]},
        )
        do_refresh_url_verdict(assessment, actor=analyst)


# --- A hotline admin's workspace settings ---


def do_save_workspace_settings(ws: WorkspaceSettings, *, actor: User) -> None:
    """Save the claim idle time and blind-confirmation switch (``ws`` holds the new values)."""
    with transaction.atomic():
        ws.save()
        record(
            "assessment.settings_changed",
            actor=actor,
            organisation=ws.hotline,
            detail={
                "claim_idle_minutes": ws.claim_idle_minutes,
                "blind_confirmation": ws.blind_confirmation,
            },
        )


def do_save_priority_rules(
    hotline: Organisation, rules: dict[str, dict[str, Any]], *, actor: User
) -> None:
    """Save the priority rules (kind -> enabled, weight, cap, threshold) and rescore the queue."""
    with transaction.atomic():
        for kind, values in rules.items():
            PriorityRule.objects.update_or_create(hotline=hotline, kind=kind, defaults=values)
        record(
            "assessment.priority_rules_changed",
            actor=actor,
            organisation=hotline,
            detail={kind: [values["enabled"], values["weight"]] for kind, values in rules.items()},
        )
        transaction.on_commit(lambda: _rescore(hotline.pk))


def _rescore(hotline_id: int) -> None:
    # Imported here: the tasks module imports the priority code this app's
    # actions are imported by.
    from openhotline.assessment.tasks import recompute_open_priorities

    try:
        recompute_open_priorities.delay(hotline_id)
    except Exception:  # the hourly recompute catches up
        logger.exception("could not queue the rescore of hotline %s", hotline_id)
