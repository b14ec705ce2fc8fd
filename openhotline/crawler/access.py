"""Access helpers for crawls and domain rules (see STYLE.md, tenancy)."""

from __future__ import annotations

from django.http import Http404

from openhotline.accounts.access import get_hotline_for_user, has_role
from openhotline.accounts.models import ADMIN_ROLES, ANALYST_ROLES, User
from openhotline.crawler.models import CrawlRun, DomainRule
from openhotline.reports.access import reported_urls_for_user
from openhotline.reports.models import ReportedUrl


def get_crawl_for_user(user: User, code: str) -> CrawlRun:
    try:
        return CrawlRun.objects.select_related("reported_url__hotline").get(
            code=code, reported_url__in=reported_urls_for_user(user)
        )
    except CrawlRun.DoesNotExist:
        raise Http404("No such crawl") from None


def can_request_crawl(user: User, reported_url: ReportedUrl) -> bool:
    return has_role(user, reported_url.hotline_id, ANALYST_ROLES)


def get_rule_for_user(user: User, slug: str, pk: int) -> DomainRule:
    # Domain rules are a hotline admin's: anyone else gets "not found".
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    rule = DomainRule.objects.filter(hotline=hotline, pk=pk).select_related("hotline").first()
    if rule is None:
        raise Http404("No such domain rule")
    return rule
