"""An agency's own settings: the police priority (its admin), and each officer's age key."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.network.actions.police_settings import (
    RecipientInvalid,
    do_save_police_rules,
    do_set_age_recipient,
)
from openhotline.network.forms import AgeKeyForm, FlaggedSeriesForm, PoliceRuleForm
from openhotline.network.lea_access import (
    LeaSeat,
    is_agency_admin,
    require_agency_admin,
    seat_for_user,
)
from openhotline.network.models import OfficerProfile, PolicePriorityRule
from openhotline.network.police_priority import DEFAULT_RULES, flagged_series


def _rule_forms(seat: LeaSeat, data: object = None) -> list[tuple[str, PoliceRuleForm]]:
    saved = {r.kind: r for r in PolicePriorityRule.objects.filter(organisation=seat.organisation)}
    forms = []
    for default in DEFAULT_RULES:
        row = saved.get(default.kind)
        initial = {
            "enabled": row.enabled if row else True,
            "weight": row.weight if row else default.weight,
            "cap": row.cap if row else default.cap,
        }
        form = PoliceRuleForm(data, prefix=default.kind, initial=initial)  # type: ignore[arg-type]
        forms.append((default.label, form))
    return forms


@staff_required
def priority(request: HttpRequest) -> HttpResponse:
    """The agency's rules; officers read them, the agency's admin edits them."""
    user = request_user(request)
    seat = seat_for_user(user)
    series = flagged_series(seat.organisation)
    return render(
        request,
        "network/lea_priority.html",
        {
            "seat": seat,
            "rule_forms": _rule_forms(seat),
            "series_form": FlaggedSeriesForm(initial={"series": "\n".join(series)}),
            "series": series,
            "can_edit": is_agency_admin(user, seat),
        },
    )


@require_POST
@staff_required
def save_priority(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    seat = seat_for_user(user)
    require_agency_admin(user, seat)
    forms = _rule_forms(seat, request.POST)
    series_form = FlaggedSeriesForm(request.POST)
    if not all(form.is_valid() for _label, form in forms) or not series_form.is_valid():
        messages.error(request, _("Every weight must be a whole number from -1000 to 1000."))
        return redirect("lea:priority")
    rules = {
        str(form.prefix): {
            "enabled": form.cleaned_data["enabled"],
            "weight": form.cleaned_data["weight"],
            "cap": form.cleaned_data["cap"],
        }
        for _label, form in forms
    }
    do_save_police_rules(seat.organisation, rules, series_form.names(), actor=user)
    messages.success(request, _("Priority rules saved; the referrals are ranked by them now."))
    return redirect("lea:priority")


@staff_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    seat = seat_for_user(user)
    found = OfficerProfile.objects.filter(user=user).first()
    recipient = found.age_recipient if found else ""
    return render(
        request,
        "network/lea_profile.html",
        {
            "seat": seat,
            "form": AgeKeyForm(initial={"recipient": recipient}),
            "recipient": recipient,
        },
    )


@require_POST
@staff_required
def save_age_key(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    seat = seat_for_user(user)
    form = AgeKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The key is too long."))
        return redirect("lea:profile")
    try:
        value = do_set_age_recipient(
            user, form.cleaned_data["recipient"], organisation=seat.organisation
        )
    except RecipientInvalid as error:
        messages.error(request, str(error))
        return redirect("lea:profile")
    messages.success(
        request, _("Key saved: packages can be encrypted to it.") if value else _("Key removed.")
    )
    return redirect("lea:profile")
