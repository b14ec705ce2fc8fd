from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openhotline.accounts.decorators import staff_required
from openhotline.reports.access import get_report_for_user, get_reported_url_for_user


@staff_required
def report_detail(request: HttpRequest, code: str) -> HttpResponse:
    report = get_report_for_user(request.user, code)  # type: ignore[arg-type]
    urls = report.urls.all().order_by("created_at")
    timeline = report.timeline.select_related("actor")
    return render(
        request,
        "reports/report_detail.html",
        {"report": report, "urls": urls, "timeline": timeline},
    )


@staff_required
def reported_url_detail(request: HttpRequest, code: str) -> HttpResponse:
    reported_url = get_reported_url_for_user(request.user, code)  # type: ignore[arg-type]
    reports = reported_url.reports.all().order_by("created_at")
    timeline = reported_url.timeline.select_related("actor")
    return render(
        request,
        "reports/url_detail.html",
        {"reported_url": reported_url, "reports": reports, "timeline": timeline},
    )
