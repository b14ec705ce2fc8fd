"""The public report form and the receipt-code status page.

No login, no JavaScript. Every refusal (an oversized body, an expired form,
the honeypot, a flood, a bad URL) answers with a page in the reporter's
language and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.decorators import decorator_from_middleware
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from openhotline.accounts.models import Organisation
from openhotline.intake import throttle
from openhotline.intake.actions.public import TooManyReports, do_submit_public_report
from openhotline.intake.destination import default_hotline, hotline_by_slug, hotlines
from openhotline.intake.forms import ReportForm, StatusForm
from openhotline.reports.models import Report, ReportState, UrlState

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def refusal(request: HttpRequest, title: str, message: str, *, status: int) -> HttpResponse:
    return render(
        request, "intake/refused.html", {"title": title, "message": message}, status=status
    )


class _PublicCsrf(CsrfViewMiddleware):
    """CSRF protection whose refusal is a page the reporter can read, in their language."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        logger.info("public form refused: CSRF check failed (%s)", reason)
        return refusal(
            request,
            _("The form has expired"),
            _(
                "For your security the form only works for a limited time and needs cookies. "
                "Go back, reload the page and send your report again."
            ),
            status=403,
        )


_public_csrf_protect = decorator_from_middleware(_PublicCsrf)


def public_form(view: View) -> View:
    """Refuse an oversized body first, then check CSRF, both with a readable page.

    The size is checked before anything reads the body (the CSRF check reads
    it), so a huge upload costs nothing and never reaches Django's own limit.
    """
    # decorator_from_middleware's stub types the result loosely; it is a view.
    protected = cast(View, _public_csrf_protect(view))

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = min(
                settings.OPENHOTLINE_INTAKE_MAX_BODY,
                settings.DATA_UPLOAD_MAX_MEMORY_SIZE or settings.OPENHOTLINE_INTAKE_MAX_BODY,
            )
            if length > limit:
                return _too_long(request)
        try:
            return protected(request, *args, **kwargs)
        except (RequestDataTooBig, TooManyFieldsSent):
            return _too_long(request)

    return csrf_exempt(wrapper)


def _too_long(request: HttpRequest) -> HttpResponse:
    return refusal(
        request,
        _("Your report is too long"),
        _(
            "Please shorten the description or comment, or send fewer addresses "
            "at once, and try again."
        ),
        status=413,
    )


@public_form
def report_form(request: HttpRequest) -> HttpResponse:
    """``/report/``: the installation's public hotline, or a choice when there are several."""
    hotline = default_hotline()
    if hotline is not None:
        return _report(request, hotline)
    choices = list(hotlines())
    if not choices:
        return refusal(
            request,
            _("Reporting is not available yet"),
            _("This service has no hotline set up to receive reports. Please try again later."),
            status=503,
        )
    return render(request, "intake/choose_hotline.html", {"hotlines": choices})


@public_form
def report_form_for_hotline(request: HttpRequest, slug: str) -> HttpResponse:
    return _report(request, hotline_by_slug(slug))


def _report(request: HttpRequest, hotline: Organisation) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, hotline, ReportForm())
    if request.POST.get("homepage"):
        logger.info("public form refused: honeypot filled in")
        return refusal(
            request,
            _("Your report could not be sent"),
            _(
                "The form was filled in in a way that only automated programs do. "
                "If you are a person, go back, reload the page and try again."
            ),
            status=400,
        )
    source = throttle.source_key(request)
    if throttle.is_over_limit(source):
        return _too_many(request)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _render_form(request, hotline, form, status=400)
    data = form.cleaned_data
    try:
        report = do_submit_public_report(
            hotline,
            source=source,
            urls=data["urls"],
            description=data["description"],
            where_found=form.where_found_stored(),
            comment=data["comment"],
            email=data["email"] if data["contact_consent"] else "",
            language=get_language() or "",
        )
    except TooManyReports:
        return _too_many(request)
    response = render(request, "intake/receipt.html", {"report": report, "hotline": hotline})
    response["Cache-Control"] = "no-store"
    return response


def _too_many(request: HttpRequest) -> HttpResponse:
    minutes = max(1, settings.OPENHOTLINE_INTAKE_RATE_WINDOW // 60)
    response = refusal(
        request,
        _("Too many reports in a short time"),
        _(
            "Thank you for your reports. To protect this service we accept only a few at a "
            "time from one connection. Please send the rest in %(minutes)s min."
        )
        % {"minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(settings.OPENHOTLINE_INTAKE_RATE_WINDOW)
    return response


def _render_form(
    request: HttpRequest, hotline: Organisation, form: ReportForm, *, status: int = 200
) -> HttpResponse:
    form.describe_for_assistive_technology()
    context = {
        "form": form,
        "hotline": hotline,
        "several_hotlines": hotlines().count() > 1,
        "max_urls": settings.OPENHOTLINE_INTAKE_MAX_URLS,
    }
    return render(request, "intake/report_form.html", context, status=status)


# What a reporter may know of progress: never the classification or the content.
# A reported URL in one of these states still waits for its assessment.
WAITING_URL_STATES = frozenset(
    {
        UrlState.NEW,
        UrlState.CRAWLING,
        UrlState.CRAWL_FAILED,
        UrlState.AWAITING_ASSESSMENT,
    }
)


def public_state(report: Report) -> str:
    """What the reporter may know: "received", "assessing" or "closed", never the verdict.

    Derived from the report's URLs in one query:
    1. No URL (a description alone): the report's own state.
    2. Every URL assessed (whatever the outcome, so an illegal and a legal page
       close alike): closed.
    3. Some URL assessed, opened by an analyst, or being assessed: assessing.
    4. Otherwise: received.
    """
    # "claim" is the analyst's lock on a URL (assessment app): someone has it open.
    urls = [
        (state, claim is not None) for state, claim in report.urls.values_list("state", "claim")
    ]
    return public_state_of(report.state, urls)


def public_state_of(report_state: str, urls: list[tuple[str, bool]]) -> str:
    """``public_state`` from the report's state and its URLs' ``(state, claimed)``.

    For pages that list many reports and read their URLs in one query.
    """
    if report_state == ReportState.CLOSED:
        return "closed"
    if not urls:
        return "assessing" if report_state == ReportState.ASSESSING else "received"
    done = [state not in WAITING_URL_STATES and state != UrlState.ASSESSING for state, _ in urls]
    if all(done):
        return "closed"
    if any(done) or any(claimed or state == UrlState.ASSESSING for state, claimed in urls):
        return "assessing"
    return "received"


@public_form
def report_status(request: HttpRequest) -> HttpResponse:
    """``/report/status/``: the public status of a receipt code.

    The code is sent by POST, so it stays out of URLs and access logs.
    """
    form = StatusForm(request.POST if request.method == "POST" else None)
    state = ""
    if request.method == "POST" and form.is_valid():
        report = Report.objects.filter(code=form.cleaned_data["code"]).only("state").first()
        if report is None:
            form.add_error("code", _("No report has this receipt code. Check it and try again."))
        else:
            state = public_state(report)
    form.describe_for_assistive_technology()
    status = 400 if form.errors else 200
    return render(request, "intake/status.html", {"form": form, "state": state}, status=status)
