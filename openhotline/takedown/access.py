"""Access helpers for takedown: a hotline's cases, contacts, notices and templates.

Analysts of a hotline see its cases, notices and contacts and act on its
cases; its admins edit, approve and merge contacts and edit templates.
Anyone else gets "not found".
"""

from __future__ import annotations

from django.http import Http404

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import ADMIN_ROLES, ANALYST_ROLES, User
from openhotline.takedown.models import AbuseContact, Notice, TakedownCase


def get_case_for_user(user: User, code: str, *, write: bool = False) -> TakedownCase:
    hotlines = hotlines_for_user(user, roles=ANALYST_ROLES if write else None)
    try:
        return TakedownCase.objects.select_related("reported_url", "hotline", "contact").get(
            code=code, hotline__in=hotlines
        )
    except TakedownCase.DoesNotExist:
        raise Http404("No such case") from None


def get_contact_for_user(user: User, code: str, *, admin: bool = False) -> AbuseContact:
    hotlines = hotlines_for_user(user, roles=ADMIN_ROLES if admin else None)
    try:
        return AbuseContact.objects.select_related("hotline", "merged_into").get(
            code=code, hotline__in=hotlines
        )
    except AbuseContact.DoesNotExist:
        raise Http404("No such contact") from None


def get_notice_for_user(user: User, code: str) -> Notice:
    try:
        return Notice.objects.select_related("hotline", "contact").get(
            code=code, hotline__in=hotlines_for_user(user)
        )
    except Notice.DoesNotExist:
        raise Http404("No such notice") from None
