"""The analyst's wellbeing page: preferences, counters, breaks, and lifting a daily cap."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import User
from openhotline.assessment.actions.wellbeing import (
    break_due,
    can_lift_cap,
    counters,
    do_lift_cap,
    prefs_for,
    take_break,
    thumbnail_params,
)
from openhotline.assessment.forms import WellbeingForm
from openhotline.assessment.models import RevealDay


def wellbeing_context(request: HttpRequest) -> dict[str, Any]:
    """What every workspace page shows: counters, the break reminder, preview settings."""
    user = request_user(request)
    prefs = prefs_for(user)
    return {
        "wellbeing": prefs,
        "counters": counters(user, request.session, prefs),
        "break_due": break_due(request.session, prefs),
        "thumb_params": thumbnail_params(prefs),
    }


@staff_required
def wellbeing(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    prefs = prefs_for(user)
    form = WellbeingForm(request.POST or None, instance=prefs)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your preferences are saved."))
        return redirect("assessment:wellbeing")
    capped = [
        day
        for day in RevealDay.objects.filter(
            day=timezone.now().date(),
            cap_lifted_at__isnull=True,
            user__wellbeing__daily_cap__isnull=False,
            revealed__gte=F("user__wellbeing__daily_cap"),
        ).select_related("user")
        if day.user_id != user.pk and can_lift_cap(user, day.user)
    ]
    return render(
        request,
        "assessment/wellbeing.html",
        {"form": form, "capped": capped, **wellbeing_context(request)},
    )


@require_POST
@staff_required
def took_break(request: HttpRequest) -> HttpResponse:
    take_break(request.session)
    messages.success(request, _("Welcome back."))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return redirect(next_url or "assessment:queue")


@require_POST
@staff_required
def lift_cap(request: HttpRequest, username: str) -> HttpResponse:
    senior = request_user(request)
    analyst = User.objects.filter(username=username).first()
    if analyst is None or not can_lift_cap(senior, analyst) or analyst.pk == senior.pk:
        raise Http404("No such analyst")
    do_lift_cap(analyst, senior)
    messages.success(
        request, _("The daily cap of %(username)s is lifted for today.") % {"username": username}
    )
    return redirect("assessment:wellbeing")
