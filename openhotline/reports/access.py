"""Access helpers for reports and reported URLs (see STYLE.md, tenancy)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import ANALYST_ROLES, User
from openhotline.reports.models import Report, ReportedUrl


def reported_urls_for_user(user: User) -> QuerySet[ReportedUrl]:
    return ReportedUrl.objects.filter(hotline__in=hotlines_for_user(user))


def get_report_for_user(user: User, code: str, *, write: bool = False) -> Report:
    hotlines = hotlines_for_user(user, roles=ANALYST_ROLES if write else None)
    try:
        return Report.objects.select_related("hotline").get(code=code, hotline__in=hotlines)
    except Report.DoesNotExist:
        raise Http404("No such report") from None


def get_reported_url_for_user(user: User, code: str, *, write: bool = False) -> ReportedUrl:
    hotlines = hotlines_for_user(user, roles=ANALYST_ROLES if write else None)
    try:
        return ReportedUrl.objects.select_related("hotline").get(code=code, hotline__in=hotlines)
    except ReportedUrl.DoesNotExist:
        raise Http404("No such reported URL") from None
