"""A partner's own page, ``/app/partner/``: the reports it sent and their public states.

A partner learns what a reporter may know of each report ("received",
"assessing", "closed"; ``views.public_state``), never a verdict: its API
answers the same (``intake.api``). Its keys are at ``/app/keys/``.
"""

from __future__ import annotations

from collections import defaultdict

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openhotline.accounts.access import get_own_organisation, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ApiKey, Role
from openhotline.intake.views import public_state_of
from openhotline.reports.models import Report, ReportLink

PAGE_SIZE = 50
PARTNER_ROLES: set[str] = {Role.PARTNER}


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    partner = get_own_organisation(request_user(request), PARTNER_ROLES)
    reports = (
        Report.objects.filter(submitted_by_org=partner)
        .select_related("hotline")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    # The page's URLs in one query, for the public state of every report.
    urls: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    links = ReportLink.objects.filter(report__in=[r.pk for r in page]).values_list(
        "report_id", "reported_url__state", "reported_url__claim"
    )
    for report_id, state, claim in links:
        urls[report_id].append((state, claim is not None))
    rows = [(r, len(urls[r.pk]), public_state_of(r.state, urls[r.pk])) for r in page]
    keys = ApiKey.objects.filter(organisation=partner).aggregate(
        active=Count("pk", filter=Q(revoked_at__isnull=True))
    )
    return render(
        request,
        "intake/partner_home.html",
        {"partner": partner, "page": page, "rows": rows, "active_keys": keys["active"]},
    )
