"""Four-eyes in the workspace: confirm or dispute a classification, settle a dispute."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import User
from openhotline.assessment.actions import (
    AssessmentError,
    do_confirm_item,
    do_settle_dispute,
)
from openhotline.assessment.claims import SENIOR_ROLES
from openhotline.assessment.models import ItemStatus, ReviewState
from openhotline.assessment.vocabulary import FINAL_VERDICTS, Verdict
from openhotline.assessment.wellbeing_views import wellbeing_context

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@staff_required
def confirm_list(request: HttpRequest) -> HttpResponse:
    """Classifications awaiting a senior analyst, and disputes awaiting a third analyst."""
    user = _user(request)
    hotlines = hotlines_for_user(user)
    senior_of = set(hotlines_for_user(user, roles=SENIOR_ROLES).values_list("pk", flat=True))
    statuses = (
        ItemStatus.objects.filter(
            hotline__in=hotlines,
            review_state__in=[ReviewState.AWAITING_CONFIRMATION, ReviewState.DISPUTED],
        )
        .select_related("hotline", "media_item", "current", "current__analyst")
        .order_by("updated_at")[:PAGE_SIZE]
    )
    return render(
        request,
        "assessment/confirm.html",
        {
            "statuses": statuses,
            "senior_of": senior_of,
            "verdicts": [(v, label) for v, label in Verdict.choices if v in FINAL_VERDICTS],
            **wellbeing_context(request),
        },
    )


def _status(request: HttpRequest, media_code: str) -> ItemStatus:
    user = _user(request)
    status = (
        ItemStatus.objects.filter(
            hotline__in=hotlines_for_user(user),
            hotline_id=request.POST.get("hotline") or None,
            media_item__code=media_code,
        )
        .select_related("hotline", "media_item", "current")
        .first()
    )
    if status is None:
        raise Http404("No such classification")
    return status


def _verdict(request: HttpRequest) -> str:
    verdict = request.POST.get("verdict", "")
    if verdict not in FINAL_VERDICTS:
        raise AssessmentError("choose a verdict")
    return verdict


@require_POST
@staff_required
def agree(request: HttpRequest, media_code: str) -> HttpResponse:
    status = _status(request, media_code)
    try:
        do_confirm_item(status, _user(request), agree=True)
        messages.success(request, f"Confirmed: {status.current.get_verdict_display()}.")
    except AssessmentError as exc:
        messages.error(request, str(exc))
    return redirect("assessment:confirm")


@require_POST
@staff_required
def disagree(request: HttpRequest, media_code: str) -> HttpResponse:
    status = _status(request, media_code)
    try:
        do_confirm_item(status, _user(request), agree=False, verdict=_verdict(request))
        messages.success(request, "Disputed: a third analyst will decide.")
    except AssessmentError as exc:
        messages.error(request, str(exc))
    return redirect("assessment:confirm")


@require_POST
@staff_required
def settle(request: HttpRequest, media_code: str) -> HttpResponse:
    status = _status(request, media_code)
    try:
        do_settle_dispute(status, _user(request), _verdict(request))
        messages.success(request, "Dispute settled.")
    except AssessmentError as exc:
        messages.error(request, str(exc))
    return redirect("assessment:confirm")
