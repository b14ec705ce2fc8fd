"""The police's answers to a referral, one view per action (``actions.police_feedback``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.network.actions.police_feedback import (
    FeedbackError,
    do_acknowledge_referral,
    do_decide_referral,
    do_record_outcome,
)
from openhotline.network.lea_access import get_referral, seat_for_user
from openhotline.network.models import ReferralDecision


def _back(code: str) -> HttpResponse:
    return redirect("lea:referral", code=code)


@require_POST
@staff_required
def acknowledge(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    seat = seat_for_user(user)
    referral = get_referral(seat, code)
    if do_acknowledge_referral(referral, seat, actor=user):
        messages.success(request, _("Referral acknowledged; the hotline sees it."))
    else:
        messages.info(request, _("This referral was acknowledged already."))
    return _back(code)


def _decide(request: HttpRequest, code: str, decision: str) -> HttpResponse:
    user = request_user(request)
    seat = seat_for_user(user)
    referral = get_referral(seat, code)
    try:
        do_decide_referral(
            referral,
            seat,
            decision=decision,
            reason=request.POST.get("reason", ""),
            actor=user,
        )
    except FeedbackError as error:
        messages.error(request, str(error))
        return _back(code)
    messages.success(request, _("Decision recorded; the hotline sees it."))
    return _back(code)


@require_POST
@staff_required
def accept(request: HttpRequest, code: str) -> HttpResponse:
    return _decide(request, code, ReferralDecision.ACCEPTED)


@require_POST
@staff_required
def decline(request: HttpRequest, code: str) -> HttpResponse:
    return _decide(request, code, ReferralDecision.DECLINED)


def _outcome(request: HttpRequest, code: str, outcome: str) -> HttpResponse:
    user = request_user(request)
    seat = seat_for_user(user)
    referral = get_referral(seat, code)
    try:
        do_record_outcome(
            referral, seat, outcome=outcome, note=request.POST.get("note", ""), actor=user
        )
    except FeedbackError as error:
        messages.error(request, str(error))
        return _back(code)
    messages.success(request, _("Recorded; the hotline sees it."))
    return _back(code)


@require_POST
@staff_required
def investigation_opened(request: HttpRequest, code: str) -> HttpResponse:
    return _outcome(request, code, "investigation")


@require_POST
@staff_required
def victim_identified(request: HttpRequest, code: str) -> HttpResponse:
    return _outcome(request, code, "victim")
