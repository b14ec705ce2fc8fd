"""What the navigation shows: links to the parts a user's roles reach."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from openhotline.accounts.models import (
    ANALYST_ROLES,
    AUDITOR_ROLES,
    PEOPLE_ADMIN_ROLES,
    POLICE_ROLES,
    Role,
    User,
)


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    roles = set(user.memberships.values_list("role", flat=True))
    return {
        "nav_hotline": bool(roles & ANALYST_ROLES),
        "nav_lea": bool(roles & POLICE_ROLES),
        "nav_admin": bool(roles & PEOPLE_ADMIN_ROLES),
        "nav_audit": bool(roles & AUDITOR_ROLES),
        "nav_isp": Role.ISP_OPERATOR in roles,
        "nav_partner": Role.PARTNER in roles,
        "nav_stats": bool(roles & (ANALYST_ROLES | AUDITOR_ROLES)),
        "nav_demo_mailbox": bool(roles & ANALYST_ROLES) and settings.OPENHOTLINE_DEMO,
    }
