"""Staff pages of takedown cases: the list by state, a case, its notices; resolve, close."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import (
    get_hotline_for_user,
    has_role,
    request_user,
)
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ADMIN_ROLES, ANALYST_ROLES, Organisation
from openhotline.accounts.pages import act, act_on_each, hotline_index
from openhotline.takedown.access import (
    get_case_for_user,
    get_notice_for_user,
)
from openhotline.takedown.actions.cases import (
    TakedownError,
    do_close_case,
    do_pick_contact,
    do_request_recheck,
    do_resolve_attention,
)
from openhotline.takedown.forms import CloseForm
from openhotline.takedown.models import AbuseContact, CaseState, TakedownCase

PAGE_SIZE = 50
TABS = [
    CaseState.ATTENTION,
    CaseState.WAITING,
    CaseState.NOTIFIED,
    CaseState.ESCALATED,
    CaseState.MONITORING,
    CaseState.REMOVED,
    CaseState.CLOSED,
]


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    return hotline_index(request, url_name="takedown:cases", template="takedown/index.html")


@staff_required
def cases(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug)
    tab = request.GET.get("tab", CaseState.ATTENTION)
    if tab not in CaseState.values:
        tab = CaseState.ATTENTION
    counts = {
        row["state"]: row["n"]
        for row in TakedownCase.objects.filter(hotline=hotline)
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
    }
    rows = (
        TakedownCase.objects.filter(hotline=hotline, state=tab)
        .select_related("reported_url", "contact")
        .order_by("-updated_at", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [(state, CaseState(state).label, counts.get(state, 0)) for state in TABS]
    return render(
        request,
        "takedown/cases.html",
        {
            "hotline": hotline,
            "tab": tab,
            "tabs": tabs,
            "page": page,
            "is_admin": has_role(user, hotline, ADMIN_ROLES),
        },
    )


@staff_required
def case_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    case = get_case_for_user(user, code)
    return render(
        request,
        "takedown/case.html",
        {
            "case": case,
            "hotline": case.hotline,
            "checks": case.checks.all()[:50],
            "lines": case.notice_lines.select_related("notice").order_by("-notice__created_at"),
            "relocations": case.relocations.select_related("new_url__hotline"),
            "close_form": CloseForm(),
            # The hotline's approved contacts with an address, to pick from.
            "contacts": AbuseContact.objects.filter(
                hotline=case.hotline,
                approved_at__isnull=False,
                merged_into__isnull=True,
            )
            .exclude(email="")
            .order_by("name")[:500],
        },
    )


@require_POST
@staff_required
def resolve(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    case = get_case_for_user(user, code, write=True)
    act(
        request,
        lambda: do_resolve_attention(case, actor=user),
        refused=TakedownError,
        done=lambda _result: _("Notices resume to %(contact)s.") % {"contact": case.contact},
    )
    return redirect("takedown:case", code=case.code)


@require_POST
@staff_required
def recheck(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    case = get_case_for_user(user, code, write=True)
    act(
        request,
        lambda: do_request_recheck(case, actor=user),
        refused=TakedownError,
        done=lambda _result: _("Re-check queued: reload this page in a moment."),
    )
    return redirect("takedown:case", code=case.code)


@require_POST
@staff_required
def close(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    case = get_case_for_user(user, code, write=True)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for closing the case."))
        return redirect("takedown:case", code=case.code)
    act(
        request,
        lambda: do_close_case(case, actor=user, reason=form.cleaned_data["reason"]),
        refused=TakedownError,
    )
    return redirect("takedown:case", code=case.code)


@staff_required
def notice_detail(request: HttpRequest, code: str) -> HttpResponse:
    notice = get_notice_for_user(request_user(request), code)
    lines = notice.lines.select_related("case")
    return render(
        request,
        "takedown/notice.html",
        {"notice": notice, "lines": lines, "hotline": notice.hotline},
    )


@require_POST
@staff_required
def pick_contact(request: HttpRequest, code: str) -> HttpResponse:
    """Send the case's notices to an approved contact chosen from the hotline's list."""
    user = request_user(request)
    case = get_case_for_user(user, code, write=True)
    contact = AbuseContact.objects.filter(
        hotline=case.hotline, code=str(request.POST.get("contact", ""))[:20]
    ).first()
    if contact is None:
        messages.error(request, _("Choose one of the hotline's contacts."))
        return redirect("takedown:case", code=case.code)
    act(
        request,
        lambda: do_pick_contact(case, contact, actor=user),
        refused=TakedownError,
        done=_("Notices now go to %(contact)s.") % {"contact": contact},
    )
    return redirect("takedown:case", code=case.code)


# The most cases one bulk request acts on.
BULK_LIMIT = 500


def _selected_cases(
    request: HttpRequest, slug: str
) -> tuple[Organisation, list[TakedownCase | str]]:
    """The hotline and the picked cases in order; a code not found stays a string."""
    hotline = get_hotline_for_user(request_user(request), slug, roles=ANALYST_ROLES)
    codes = [str(c)[:20] for c in request.POST.getlist("codes")][:BULK_LIMIT]
    found = {
        c.code: c
        for c in TakedownCase.objects.filter(hotline=hotline, code__in=codes).select_related(
            "reported_url", "hotline", "contact"
        )
    }
    return hotline, [found.get(code, code) for code in dict.fromkeys(codes)]


def _case_label(row: TakedownCase | str) -> str:
    return row if isinstance(row, str) else row.code


@require_POST
@staff_required
def resolve_selected(request: HttpRequest, slug: str) -> HttpResponse:
    """Accept the hosting as traced now for each selected case (``do_resolve_attention``)."""
    user = request_user(request)
    hotline, rows = _selected_cases(request, slug)

    def resolve_one(row: TakedownCase | str) -> None:
        if isinstance(row, str):
            raise TakedownError(_("no such case"))
        do_resolve_attention(row, actor=user)

    act_on_each(request, rows, resolve_one, label=_case_label, refused=TakedownError)
    return redirect(reverse("takedown:cases", args=[hotline.slug]) + "?tab=attention")


@require_POST
@staff_required
def close_selected(request: HttpRequest, slug: str) -> HttpResponse:
    """Close each selected case with one reason (``do_close_case``)."""
    user = request_user(request)
    hotline, rows = _selected_cases(request, slug)
    reason = str(request.POST.get("reason", ""))[:500]

    def close_one(row: TakedownCase | str) -> None:
        if isinstance(row, str):
            raise TakedownError(_("no such case"))
        do_close_case(row, actor=user, reason=reason)

    act_on_each(request, rows, close_one, label=_case_label, refused=TakedownError)
    tab = str(request.POST.get("tab", CaseState.ATTENTION))
    return redirect(reverse("takedown:cases", args=[hotline.slug]) + f"?tab={quote(tab)}")
