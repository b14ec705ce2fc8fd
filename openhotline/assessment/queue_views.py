"""The queue page (``/app/``) and "take the next URL"."""

from __future__ import annotations

import dataclasses

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import Membership
from openhotline.assessment.actions.claims import ClaimError, do_claim_url
from openhotline.assessment.queue import (
    AGES,
    COUNT_LIMIT,
    MATERIALS,
    QueueFilters,
    bounded_count,
    live_claim_q,
    page_after,
    parse_cursor,
    queue_hotlines,
    queue_urls,
)
from openhotline.assessment.queue_search import SearchError, parse_search
from openhotline.assessment.wellbeing_views import wellbeing_context
from openhotline.reports.models import ReportSource, UrlState


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """Reported URLs waiting for assessment, highest score first, with why they scored so."""
    user = request_user(request)
    now = timezone.now()
    hotlines = queue_hotlines(user)
    filters = QueueFilters.from_query(request.GET)
    search_error = ""
    try:
        search = parse_search(filters.q)
    except SearchError as exc:
        search, search_error = None, str(exc)
    urls = queue_urls(user, filters, hotlines, now, search=search)
    if search_error:
        urls = urls.none()
    cursor = parse_cursor(request.GET.get("after", ""))
    rows, next_cursor = page_after(urls, cursor)
    total, more = bounded_count(urls)
    idle = {entry.hotline.pk: entry.idle_minutes for entry in hotlines}
    for row in rows:
        claim = getattr(row, "claim", None)
        row.live_claim = (  # type: ignore[attr-defined]
            claim if claim is not None and claim.is_live(idle[row.hotline_id], now) else None
        )
    analysts = (
        Membership.objects.filter(organisation__in=[h.hotline for h in hotlines])
        .values_list("user__username", flat=True)
        .distinct()
        .order_by("user__username")
    )
    return render(
        request,
        "assessment/queue.html",
        {
            "rows": rows,
            "filters": filters,
            "next_query": filters.query(after=next_cursor) if next_cursor else "",
            "first_query": filters.query() if cursor else None,
            "total": total,
            "more": more,
            "count_limit": COUNT_LIMIT,
            "states": UrlState.choices,
            "sources": ReportSource.choices,
            "ages": AGES.items(),
            "materials": MATERIALS.items(),
            "analysts": list(analysts),
            "now": now,
            "show_hotline": len(hotlines) > 1,
            "search": search,
            "search_error": search_error,
            **wellbeing_context(request),
        },
        status=400 if search_error else 200,
    )


@require_POST
@staff_required
def take_next(request: HttpRequest) -> HttpResponse:
    """Claim the best unclaimed URL of the queue (with its filters) and open it."""
    user = request_user(request)
    now = timezone.now()
    hotlines = queue_hotlines(user)
    # The search is not a filter here: it reaches URLs that are no longer waiting.
    filters = dataclasses.replace(QueueFilters.from_query(request.POST), q="")
    candidates = queue_urls(user, filters, hotlines, now).exclude(live_claim_q(hotlines, now))
    for reported_url in candidates.select_related("hotline")[:5]:
        try:
            do_claim_url(reported_url, user)
        except ClaimError:
            continue  # someone took it a moment ago: try the next one
        return redirect("assessment:review", code=reported_url.code)
    messages.info(request, _("Nothing unclaimed is waiting."))
    return redirect("assessment:queue")
