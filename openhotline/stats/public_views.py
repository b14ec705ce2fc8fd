"""The public transparency report at ``/transparency/``: no login, aggregates only."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.stats.public_tables import tables
from openhotline.stats.transparency import YearFigures, year_figures, years_with_data


def _figures(year: int, hotline: Organisation | None) -> YearFigures:
    """The year's figures, computed at most once per cache period (the page is public)."""
    ids = (hotline.pk,) if hotline else None
    seconds = settings.OPENHOTLINE_TRANSPARENCY_CACHE_SECONDS
    if not seconds:
        return year_figures(year, ids)
    key = f"stats:transparency:{hotline.pk if hotline else '*'}:{year}"
    figures = cache.get(key)
    if not isinstance(figures, YearFigures):
        figures = year_figures(year, ids)
        cache.set(key, figures, seconds)
    return figures


def _report(request: HttpRequest, hotline: Organisation | None) -> HttpResponse:
    years = years_with_data((hotline.pk,) if hotline else None)
    raw = request.GET.get("year", "")
    if raw:
        if not raw.isdigit() or int(raw) not in years:
            raise Http404("No report for that year")
        year = int(raw)
    else:
        year = timezone.now().year
    threshold = settings.OPENHOTLINE_TRANSPARENCY_MIN_COUNT
    return render(
        request,
        "stats/transparency.html",
        {
            "hotline": hotline,
            "year": year,
            "years": years,
            "tables": tables(_figures(year, hotline), threshold),
            "threshold": threshold,
        },
    )


@require_safe
def transparency(request: HttpRequest) -> HttpResponse:
    return _report(request, None)


@require_safe
def transparency_for_hotline(request: HttpRequest, slug: str) -> HttpResponse:
    hotline = Organisation.objects.filter(kind=OrgKind.HOTLINE, slug=slug).first()
    if hotline is None:
        raise Http404("No such hotline")
    return _report(request, hotline)
