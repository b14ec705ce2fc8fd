"""Staff pages of the blocklist: proposals, four-eyes approval, delisting.

Versions and settings are in ``version_views.py`` and ``settings_views.py``.
Every page fetches through ``access.py``: another hotline's list is a 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from openhotline.accounts.access import (
    get_hotline_for_user,
    has_role,
    request_user,
)
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import (
    SENIOR_ANALYSTS_NOT_ADMINS,
    SENIOR_ROLES,
    Organisation,
    User,
)
from openhotline.accounts.pages import act, act_on_each, hotline_index
from openhotline.assessment.models import UrlAssessment
from openhotline.blocking.access import (
    get_entry_for_user,
)
from openhotline.blocking.actions.entries import (
    ASSESSMENT_SOURCE,
    BlocklistError,
    do_approve_delisting,
    do_approve_entry,
    do_propose_delisting,
    do_propose_entry,
    do_reject_entry,
    get_source,
)
from openhotline.blocking.exports import unservable_formats
from openhotline.blocking.forms import ProposeForm
from openhotline.blocking.guards import preview
from openhotline.blocking.hosts import url_only_hosts
from openhotline.blocking.models import BlocklistEntry, EntryKind, EntryState, SourceKind
from openhotline.blocking.versions import current_publication
from openhotline.reports.models import ReportedUrl

PAGE_SIZE = 50
TABS = {
    "waiting": gettext_lazy("Waiting for approval"),
    "approved": gettext_lazy("Approved, not yet published"),
    "live": gettext_lazy("Live"),
    "delisted": gettext_lazy("Delisted"),
}


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    return hotline_index(request, url_name="blocking:list", template="blocking/index.html")


@staff_required
def entry_list(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug)
    tab = request.GET.get("tab", "waiting")
    if tab not in TABS:
        tab = "waiting"
    entries = BlocklistEntry.objects.filter(hotline=hotline).select_related("source")
    if tab == "waiting":
        entries = entries.filter(state=EntryState.PROPOSED) | entries.filter(
            delist_proposed_at__isnull=False,
            delist_approved_at__isnull=True,
            state__in=[EntryState.APPROVED, EntryState.LIVE],
        )
    else:
        entries = entries.filter(state=tab)
    page = Paginator(entries.order_by("-updated_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    hosts, hosts_total = url_only_hosts(hotline)
    return render(
        request,
        "blocking/list.html",
        {
            "hotline": hotline,
            "page": page,
            "tab": tab,
            "tabs": TABS,
            "publication": current_publication(hotline),
            "can_publish": has_role(user, hotline, SENIOR_ROLES),
            "url_only_hosts": hosts,
            "url_only_total": hosts_total,
            "feed_problems": unservable_formats(),
        },
    )


@require_POST
@staff_required
def propose_whole_host(request: HttpRequest, slug: str) -> HttpResponse:
    """One click: propose a host whose URLs are listed as a whole host (dedicated)."""
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug)
    host = str(request.POST.get("host", ""))[:255]
    # Evidence: a reported URL behind one of the host's listed URLs, when there is one.
    evidence = (
        ReportedUrl.objects.filter(
            hotline=hotline,
            blocklist_entries__hotline=hotline,
            blocklist_entries__kind=EntryKind.URL,
            blocklist_entries__host=host,
        )
        .order_by("pk")
        .first()
    )
    entry = act(
        request,
        lambda: do_propose_entry(
            hotline,
            value=host,
            kind=EntryKind.HOST,
            source=get_source(hotline, ASSESSMENT_SOURCE, SourceKind.ASSESSMENT),
            reason="marked dedicated to abuse material from the blocking page",
            evidence=evidence,
            dedicated=True,
            actor=user,
        ),
        refused=BlocklistError,
        done=lambda e: (
            _("Whole host %(host)s proposed as %(code)s; a senior analyst approves.")
            % {"host": e.host, "code": e.code}
        ),
    )
    if entry is None:
        return redirect("blocking:list", slug=hotline.slug)
    return redirect("blocking:entry", code=entry.code)


@staff_required
def propose(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug)
    # "Propose for blocking" on a URL's page fills the form in (``blocking_tags``).
    initial = {
        name: request.GET[name][:2048]
        for name in ("value", "kind", "evidence")
        if name in request.GET
    }
    form = ProposeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        evidence = None
        if data["evidence"]:
            evidence = ReportedUrl.objects.filter(hotline=hotline, code=data["evidence"]).first()
            if evidence is None:
                form.add_error("evidence", _("No reported URL of this hotline has that code."))
            elif UrlAssessment.objects.filter(
                reported_url=evidence, in_force_at__isnull=True
            ).exists():
                # Nothing leaves the hotline before its four-eyes checks pass.
                form.add_error(
                    "evidence", _("The verdict of this URL is not in force yet (four-eyes).")
                )
                evidence = None
        if not form.errors and (evidence is not None or not data["evidence"]):
            source = get_source(hotline, ASSESSMENT_SOURCE, SourceKind.ASSESSMENT)
            try:
                entry = do_propose_entry(
                    hotline,
                    value=data["value"],
                    kind=data["kind"],
                    source=source,
                    reason=data["reason"],
                    evidence=evidence,
                    dedicated=data["dedicated"],
                    actor=user,
                )
            except BlocklistError as exc:
                form.add_error("value", str(exc))
            else:
                messages.success(
                    request,
                    _("Entry %(code)s proposed; a senior analyst approves.") % {"code": entry.code},
                )
                return redirect("blocking:entry", code=entry.code)
    return render(request, "blocking/propose.html", {"hotline": hotline, "form": form})


@staff_required
def entry_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    entry = get_entry_for_user(user, code)
    approver = has_role(user, entry.hotline, SENIOR_ANALYSTS_NOT_ADMINS)
    # Not yet published: one senior withdraws it (``do_propose_delisting``).
    withdraw_now = entry.state == EntryState.APPROVED and has_role(
        user, entry.hotline, SENIOR_ROLES
    )
    # Not published yet: what the guards say now, before it can stop a publication.
    guard_checked = entry.state in (EntryState.PROPOSED, EntryState.APPROVED)
    return render(
        request,
        "blocking/entry.html",
        {
            "entry": entry,
            "can_approve": approver and entry.proposed_by_id != user.pk,
            "can_approve_delisting": withdraw_now
            or (approver and entry.delist_proposed_by_id != user.pk),
            "can_withdraw_now": withdraw_now,
            "own_proposal": entry.proposed_by_id == user.pk,
            "guard_checked": guard_checked,
            "guard": preview(entry.hotline, entry.kind, entry.host, entry.code)
            if guard_checked
            else None,
        },
    )


def _act(
    request: HttpRequest, code: str, change: Callable[[BlocklistEntry, User, str], None]
) -> HttpResponse:
    user = request_user(request)
    entry = get_entry_for_user(user, code)
    reason = str(request.POST.get("reason", ""))[:500]
    act(request, lambda: change(entry, user, reason), refused=BlocklistError)
    return redirect("blocking:entry", code=entry.code)


@require_POST
@staff_required
def approve(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, lambda entry, user, _r: do_approve_entry(entry, actor=user))


@require_POST
@staff_required
def reject(request: HttpRequest, code: str) -> HttpResponse:
    return _act(
        request, code, lambda entry, user, why: do_reject_entry(entry, actor=user, reason=why)
    )


@require_POST
@staff_required
def propose_delisting(request: HttpRequest, code: str) -> HttpResponse:
    def change(entry: BlocklistEntry, user: User, why: str) -> None:
        do_propose_delisting(entry, reason=why or "proposed by staff", actor=user)

    return _act(request, code, change)


@require_POST
@staff_required
def approve_delisting(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, lambda entry, user, _r: do_approve_delisting(entry, actor=user))


# The most rows one bulk request acts on; a page shows PAGE_SIZE.
BULK_LIMIT = 500


def _selected(request: HttpRequest, hotline: Organisation) -> list[BlocklistEntry | str]:
    """The entries picked on the list, in the order given; a code not found stays a string."""
    codes = [str(c)[:20] for c in request.POST.getlist("codes")][:BULK_LIMIT]
    found = {
        e.code: e
        for e in BlocklistEntry.objects.filter(hotline=hotline, code__in=codes).select_related(
            "hotline"
        )
    }
    return [found.get(code, code) for code in dict.fromkeys(codes)]


def _approve_one(row: BlocklistEntry | str, user: User) -> None:
    if isinstance(row, str):
        raise BlocklistError("no such entry on this list")
    if row.awaits_delisting_approval():
        do_approve_delisting(row, actor=user)
    else:
        do_approve_entry(row, actor=user)


@require_POST
@staff_required
def approve_selected(request: HttpRequest, slug: str) -> HttpResponse:
    """Approve each selected proposal or delisting with the one-entry action and its guards."""
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug)
    act_on_each(
        request,
        _selected(request, hotline),
        lambda row: _approve_one(row, user),
        label=lambda row: row if isinstance(row, str) else row.code,
        refused=BlocklistError,
    )
    return redirect(reverse("blocking:list", args=[hotline.slug]) + "?tab=waiting")


@require_POST
@staff_required
def reject_selected(request: HttpRequest, slug: str) -> HttpResponse:
    """Reject each selected proposal (its proposer, or a senior), with one reason for all."""
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug)
    reason = str(request.POST.get("reason", ""))[:500]

    def reject(row: BlocklistEntry | str) -> None:
        if isinstance(row, str):
            raise BlocklistError("no such entry on this list")
        do_reject_entry(row, actor=user, reason=reason)

    act_on_each(
        request,
        _selected(request, hotline),
        reject,
        label=lambda row: row if isinstance(row, str) else row.code,
        refused=BlocklistError,
    )
    return redirect(reverse("blocking:list", args=[hotline.slug]) + "?tab=waiting")
