"""The auditor's audit-log viewer under ``/app/audit/``.

Filters by actor, action, object and date; shows the chain's verification
state (the newest ``audit.chain_verified`` event, and a button to verify now);
exports the filtered events as CSV, streamed. Every look at the log, the
export and the verification are events of the log itself
(``audit.actions``). An auditor sees their organisations' events
(``access.audit_events_for_user``).

It lives in ``accounts`` because it needs the access helpers, and ``audit``
stays below ``accounts`` in the app graph (``accounts`` writes audit events).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import audit_events_for_user, audited_organisations, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.forms import AuditFilterForm
from openhotline.accounts.models import Organisation, User
from openhotline.audit.actions import do_record_log_read, do_verify_chain
from openhotline.audit.models import AuditEvent

PAGE_SIZE = 100
CSV_COLUMNS = [
    "seq",
    "created_at",
    "actor",
    "organisation",
    "action",
    "object_type",
    "object_id",
    "detail",
    "prev_hash",
    "hash",
]


def _auditor(request: HttpRequest) -> tuple[User, Organisation]:
    """The signed-in auditor and the first organisation they audit; 404 for anyone else."""
    user = request_user(request)
    organisation = audited_organisations(user).order_by("pk").first()
    if organisation is None:
        raise Http404("No audit log for you")
    return user, organisation


def _filtered(user: User, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    events = audit_events_for_user(user)
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    if data["actor"]:
        events = events.filter(actor_label=data["actor"].strip())
    if data["action"]:
        events = events.filter(action__startswith=data["action"].strip())
    if data["object"]:
        kind, _sep, ident = data["object"].strip().rpartition(":")
        events = events.filter(object_id=ident)
        if kind:
            events = events.filter(object_type=kind)
    zone = timezone.get_current_timezone()
    if data["since"]:
        events = events.filter(created_at__gte=datetime.combine(data["since"], time(), zone))
    if data["until"]:
        end = datetime.combine(data["until"] + timedelta(days=1), time(), zone)
        events = events.filter(created_at__lt=end)
    return events


def _filters(form: AuditFilterForm) -> dict[str, str]:
    """The filters as given, for the audit event that records the look."""
    return {name: str(form.data.get(name, ""))[:200] for name in form.fields if form.data.get(name)}


@staff_required
def log(request: HttpRequest) -> HttpResponse:
    user, organisation = _auditor(request)
    form = AuditFilterForm(request.GET)
    events = _filtered(user, form).select_related("actor").order_by("-seq")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    seen = _filters(form)
    if page.number > 1:
        seen["page"] = str(page.number)
    do_record_log_read("viewed", actor=user, organisation=organisation, filters=seen)
    state = AuditEvent.objects.filter(action="audit.chain_verified").order_by("-seq").first()
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit_log.html",
        {
            "form": form,
            "page": page,
            "state": state,
            "query": query.urlencode(),
            "organisations": audited_organisations(user),
        },
    )


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def _rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.seq,
                event.created_at.isoformat(),
                event.actor_label,
                event.organisation_label,
                event.action,
                event.object_type,
                event.object_id,
                json.dumps(event.detail, sort_keys=True, default=str),
                event.prev_hash,
                event.hash,
            ]
        )


@staff_required
def export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered events, oldest first, streamed row by row (the log can be large)."""
    user, organisation = _auditor(request)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain",
        )
    do_record_log_read("exported", actor=user, organisation=organisation, filters=_filters(form))
    events = _filtered(user, form).order_by("seq")
    response = StreamingHttpResponse(_rows(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


@require_POST
@staff_required
def verify(request: HttpRequest) -> HttpResponse:
    user, organisation = _auditor(request)
    result = do_verify_chain(actor=user, organisation=organisation)
    if result.intact:
        messages.success(
            request,
            _("The audit log is intact: %(n)s events verified.") % {"n": result.checked},
        )
    else:
        messages.error(request, _("The audit log is broken at %(p)s") % {"p": result.problem})
    return redirect("audit_log:log")
