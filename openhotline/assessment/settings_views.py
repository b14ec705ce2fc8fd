"""A hotline admin's workspace settings: claim idle time, priority rules, four-eyes rules.

Each form posts to its own view. Changing the rules rescores the hotline's
waiting URLs in the background.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import get_hotline_for_user, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ADMIN_ROLES
from openhotline.assessment.actions.classification import (
    do_save_priority_rules,
    do_save_workspace_settings,
)
from openhotline.assessment.actions.four_eyes import do_set_four_eyes, four_eyes_matrix
from openhotline.assessment.forms import PriorityRuleForm, WorkspaceSettingsForm
from openhotline.assessment.models import Material, PriorityRule, WorkspaceSettings
from openhotline.assessment.priority import DEFAULT_RULES, DEFAULTS_BY_KIND
from openhotline.assessment.vocabulary import Verdict
from openhotline.assessment.wellbeing_views import wellbeing_context

logger = logging.getLogger(__name__)


def _rule_forms(hotline_id: int, data: object = None) -> list[tuple[str, PriorityRuleForm]]:
    saved = {rule.kind: rule for rule in PriorityRule.objects.filter(hotline_id=hotline_id)}
    forms = []
    for default in DEFAULT_RULES:
        row = saved.get(default.kind)
        initial = {
            "enabled": row.enabled if row else True,
            "weight": row.weight if row else default.weight,
            "cap": row.cap if row else default.cap,
            "threshold": row.threshold if row else default.threshold,
        }
        forms.append(
            (default.label, PriorityRuleForm(data, prefix=default.kind, initial=initial))  # type: ignore[arg-type]
        )
    return forms


@staff_required
def workspace_settings(request: HttpRequest, slug: str) -> HttpResponse:
    hotline = get_hotline_for_user(request_user(request), slug, roles=ADMIN_ROLES)
    ws = WorkspaceSettings.objects.filter(hotline=hotline).first() or WorkspaceSettings(
        hotline=hotline
    )
    matrix = four_eyes_matrix(hotline.pk)
    return render(
        request,
        "assessment/settings.html",
        {
            "hotline": hotline,
            "claims_form": WorkspaceSettingsForm(instance=ws),
            "rule_forms": _rule_forms(hotline.pk),
            "four_eyes": [
                (
                    verdict,
                    label,
                    [(material, (verdict, material) in matrix) for material in Material.values],
                )
                for verdict, label in Verdict.choices
            ],
            "materials": Material.choices,
            **wellbeing_context(request),
        },
    )


@require_POST
@staff_required
def save_claims(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    ws = WorkspaceSettings.objects.filter(hotline=hotline).first() or WorkspaceSettings(
        hotline=hotline
    )
    form = WorkspaceSettingsForm(request.POST, instance=ws)
    if form.is_valid():
        do_save_workspace_settings(form.save(commit=False), actor=user)
        messages.success(request, _("Claim and confirmation settings saved."))
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("assessment:settings", slug=hotline.slug)


@require_POST
@staff_required
def save_rules(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    forms = _rule_forms(hotline.pk, request.POST)
    if not all(form.is_valid() for _, form in forms):
        messages.error(request, _("Every weight must be a whole number from -1000 to 1000."))
        return redirect("assessment:settings", slug=hotline.slug)
    rules = {
        str(form.prefix): {
            "enabled": form.cleaned_data["enabled"],
            "weight": form.cleaned_data["weight"],
            "cap": form.cleaned_data["cap"],
            "threshold": form.cleaned_data["threshold"]
            or DEFAULTS_BY_KIND[str(form.prefix)].threshold,
        }
        for _label, form in forms
    }
    do_save_priority_rules(hotline, rules, actor=user)
    messages.success(request, _("Priority rules saved; the queue is being rescored."))
    return redirect("assessment:settings", slug=hotline.slug)


@require_POST
@staff_required
def save_four_eyes(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    needed = {
        (verdict, material)
        for verdict in Verdict.values
        for material in Material.values
        if request.POST.get(f"fe-{verdict}-{material}") == "1"
    }
    do_set_four_eyes(hotline, needed, actor=user)
    messages.success(request, _("Four-eyes rules saved."))
    return redirect("assessment:settings", slug=hotline.slug)
