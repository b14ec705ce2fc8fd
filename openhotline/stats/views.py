"""The staff dashboards and their CSV exports."""

from __future__ import annotations

import time
from datetime import date, timedelta
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.stats.access import scope_for
from openhotline.stats.dashboards import DASHBOARDS
from openhotline.stats.tables import to_csv


def _presets(request: HttpRequest) -> list[tuple[str, str]]:
    """Quick periods, keeping the other filters."""
    today = timezone.localdate()
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    periods = [
        (_("Last 30 days"), today - timedelta(days=29), today),
        (_("This quarter"), quarter_start, today),
        (_("This year"), date(today.year, 1, 1), today),
        (_("Last year"), date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        (_("All time"), None, None),
    ]
    keep = {k: v for k, v in request.GET.items() if k in ("hotline", "country") and v}
    links = []
    for label, start, end in periods:
        query = dict(keep)
        if start and end:
            query.update(start=start.isoformat(), end=end.isoformat())
        links.append((label, "?" + urlencode(query)))
    return links


@staff_required
def dashboard(request: HttpRequest, slug: str = "overview") -> HttpResponse:
    board = DASHBOARDS.get(slug)
    if board is None:
        raise Http404("No such dashboard")
    user = request_user(request)
    scope, form = scope_for(user, request.GET)
    began = time.perf_counter()
    tables = board.tables(scope) if scope is not None else []
    return render(
        request,
        "stats/dashboard.html",
        {
            "board": board,
            "boards": DASHBOARDS.values(),
            "form": form,
            "tables": tables,
            "query": request.GET.urlencode(),
            "presets": _presets(request),
            "elapsed_ms": round(1000 * (time.perf_counter() - began)),
        },
        status=200 if scope is not None else 400,
    )


@staff_required
def table_csv(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    board = DASHBOARDS.get(slug)
    if board is None:
        raise Http404("No such dashboard")
    user = request_user(request)
    scope, form = scope_for(user, request.GET)
    if scope is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    found = board.table(scope, table)
    if found is None:
        raise Http404("No such table")
    response = HttpResponse(to_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{board.slug}-{found.slug}.csv"'
    return response
