"""Staff pages of the crawler: crawl progress, re-crawl, the blurred screenshot, domain rules."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from openhotline.accounts.access import get_hotline_for_user, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ADMIN_ROLES
from openhotline.crawler.access import (
    get_crawl_for_user,
    get_rule_for_user,
)
from openhotline.crawler.actions import (
    do_delete_domain_rule,
    do_record_screenshot_view,
    do_request_recrawl,
    do_save_domain_rule,
)
from openhotline.crawler.forms import DomainRuleForm
from openhotline.crawler.hostingdata import STALE_DAYS
from openhotline.crawler.hostingstatus import every_dataset
from openhotline.crawler.models import DomainRule
from openhotline.crawler.templatetags.crawler_tags import progress_context
from openhotline.evidence.previews import render_preview
from openhotline.evidence.store import get_store
from openhotline.evidence.thumbs import RevealStep, placeholder
from openhotline.reports.access import get_reported_url_for_user


@require_GET
@staff_required
def progress(request: HttpRequest, code: str) -> HttpResponse:
    """The progress section alone, for the reported URL page to poll while a crawl runs."""
    reported_url = get_reported_url_for_user(request_user(request), code)
    context = progress_context(request_user(request), reported_url, script=False)
    return render(request, "crawler/_progress.html", context)


@require_POST
@staff_required
def recrawl(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    reported_url = get_reported_url_for_user(user, code, write=True)
    do_request_recrawl(user, reported_url)
    messages.success(request, _("A new crawl is queued."))
    return redirect("reports:url", code=reported_url.code)


@require_GET
@staff_required
def screenshot(request: HttpRequest, code: str) -> HttpResponse:
    """The rendered page's screenshot, blurred like every media preview, and audited."""
    user = request_user(request)
    run = get_crawl_for_user(user, code)
    body = placeholder()
    if run.screenshot is not None:
        body = render_preview(
            get_store().get(run.screenshot.name),
            RevealStep.BLURRED,
            label=f"screenshot of crawl {run.code}",
        )
    do_record_screenshot_view(user, run, step=str(RevealStep.BLURRED))
    response = HttpResponse(body, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    return response


@staff_required
def rules(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    form = DomainRuleForm(request.POST or None, hotline=hotline)
    if request.method == "POST" and form.is_valid():
        rule = do_save_domain_rule(user, hotline, form.cleaned_data)
        messages.success(request, _("Rule for %(domain)s saved.") % {"domain": rule.domain})
        return redirect("crawler:rules", slug=hotline.slug)
    listed = DomainRule.objects.filter(hotline=hotline)
    context = {
        "hotline": hotline,
        "form": form,
        "rules": listed,
        "hosting_data": every_dataset(),
        "stale_days": STALE_DAYS,
    }
    return render(request, "crawler/rules.html", context)


@staff_required
def rule_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = get_rule_for_user(user, slug, pk)
    form = DomainRuleForm(request.POST or None, instance=rule, hotline=rule.hotline)
    if request.method == "POST" and form.is_valid():
        do_save_domain_rule(user, rule.hotline, form.cleaned_data, rule=rule)
        messages.success(request, _("Rule for %(domain)s saved.") % {"domain": rule.domain})
        return redirect("crawler:rules", slug=slug)
    return render(
        request, "crawler/rule_edit.html", {"hotline": rule.hotline, "form": form, "rule": rule}
    )


@require_POST
@staff_required
def rule_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = get_rule_for_user(user, slug, pk)
    do_delete_domain_rule(user, rule)
    messages.success(request, _("Rule for %(domain)s deleted.") % {"domain": rule.domain})
    return redirect("crawler:rules", slug=slug)
