"""Access helpers for takedown: a hotline's cases, contacts, notices and templates.

Analysts of a hotline see its cases, notices and contacts and act on its
cases; its admins edit, approve and merge contacts and edit templates.
Anyone else gets "not found".
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.reports.access import WRITE_ROLES
from openhotline.takedown.models import AbuseContact, Notice, TakedownCase

ADMIN_ROLES: set[str] = {Role.ADMIN}


def get_takedown_hotline(user: User, slug: str, *, admin: bool = False) -> Organisation:
    try:
        return hotlines_for_user(user, roles=ADMIN_ROLES if admin else None).get(slug=slug)
    except Organisation.DoesNotExist:
        raise Http404("Not found") from None


def is_admin(user: User, hotline: Organisation) -> bool:
    return hotlines_for_user(user, roles=ADMIN_ROLES).filter(pk=hotline.pk).exists()


def get_case_for_user(user: User, code: str, *, write: bool = False) -> TakedownCase:
    hotlines = hotlines_for_user(user, roles=WRITE_ROLES if write else None)
    try:
        return TakedownCase.objects.select_related("reported_url", "hotline", "contact").get(
            code=code, hotline__in=hotlines
        )
    except TakedownCase.DoesNotExist:
        raise Http404("No such case") from None


def contacts_for_user(user: User) -> QuerySet[AbuseContact]:
    return AbuseContact.objects.filter(hotline__in=hotlines_for_user(user))


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
