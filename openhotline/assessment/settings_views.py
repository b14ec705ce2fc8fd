"""A hotline admin's workspace settings: claim idle time, priority rules, four-eyes rules.

Each form posts to its own view. Changing the rules rescores the hotline's
waiting URLs in the background.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from openhotline.accounts.access import get_hotline_for_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import User
from openhotline.assessment.forms import PriorityRuleForm, WorkspaceSettingsForm
from openhotline.assessment.four_eyes import do_set_four_eyes, four_eyes_matrix
from openhotline.assessment.models import Material, PriorityRule, WorkspaceSettings
from openhotline.assessment.priority import DEFAULT_RULES, DEFAULTS_BY_KIND
from openhotline.assessment.vocabulary import Verdict
from openhotline.assessment.wellbeing_views import wellbeing_context
from openhotline.audit.log import record

logger = logging.getLogger(__name__)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


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
    hotline = get_hotline_for_user(_user(request), slug, admin=True)
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
    user = _user(request)
    hotline = get_hotline_for_user(user, slug, admin=True)
    ws = WorkspaceSettings.objects.filter(hotline=hotline).first() or WorkspaceSettings(
        hotline=hotline
    )
    form = WorkspaceSettingsForm(request.POST, instance=ws)
    if form.is_valid():
        with transaction.atomic():
            form.save()
            record(
                "assessment.settings_changed",
                actor=user,
                organisation=hotline,
                detail={
                    "claim_idle_minutes": ws.claim_idle_minutes,
                    "blind_confirmation": ws.blind_confirmation,
                },
            )
        messages.success(request, "Claim and confirmation settings saved.")
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("assessment:settings", slug=hotline.slug)


@require_POST
@staff_required
def save_rules(request: HttpRequest, slug: str) -> HttpResponse:
    user = _user(request)
    hotline = get_hotline_for_user(user, slug, admin=True)
    forms = _rule_forms(hotline.pk, request.POST)
    if not all(form.is_valid() for _, form in forms):
        messages.error(request, "Every weight must be a whole number from -1000 to 1000.")
        return redirect("assessment:settings", slug=hotline.slug)
    with transaction.atomic():
        for _label, form in forms:
            kind = str(form.prefix)
            data = form.cleaned_data
            PriorityRule.objects.update_or_create(
                hotline=hotline,
                kind=kind,
                defaults={
                    "enabled": data["enabled"],
                    "weight": data["weight"],
                    "cap": data["cap"],
                    "threshold": data["threshold"] or DEFAULTS_BY_KIND[kind].threshold,
                },
            )
        record(
            "assessment.priority_rules_changed",
            actor=user,
            organisation=hotline,
            detail={
                str(form.prefix): [form.cleaned_data["enabled"], form.cleaned_data["weight"]]
                for _, form in forms
            },
        )
        transaction.on_commit(lambda: _rescore(hotline.pk))
    messages.success(request, "Priority rules saved; the queue is being rescored.")
    return redirect("assessment:settings", slug=hotline.slug)


def _rescore(hotline_id: int) -> None:
    from openhotline.assessment.tasks import recompute_open_priorities

    try:
        recompute_open_priorities.delay(hotline_id)
    except Exception:  # the hourly recompute catches up
        logger.exception("could not queue the rescore of hotline %s", hotline_id)


@require_POST
@staff_required
def save_four_eyes(request: HttpRequest, slug: str) -> HttpResponse:
    user = _user(request)
    hotline = get_hotline_for_user(user, slug, admin=True)
    needed = {
        (verdict, material)
        for verdict in Verdict.values
        for material in Material.values
        if request.POST.get(f"fe-{verdict}-{material}") == "1"
    }
    do_set_four_eyes(hotline, needed, actor=user)
    messages.success(request, "Four-eyes rules saved.")
    return redirect("assessment:settings", slug=hotline.slug)
