"""Where each role lands after login: one home page per kind of work.

A person with several roles lands where their daily work is: the analysts'
queue first (admins who also analyse included), then the police portal,
then the pages of the roles that only look after one thing.
"""

from __future__ import annotations

from django.urls import reverse

from openhotline.accounts.models import AUDITOR_ROLES, POLICE_ROLES, Role, User

# The roles that work the queue by day; an admin who holds no such role
# lands on the admin home instead.
QUEUE_ROLES: set[str] = {Role.ANALYST, Role.SENIOR_ANALYST}

# In order: the first line whose roles the user holds names their home.
HOMES: list[tuple[set[str], str]] = [
    (QUEUE_ROLES, "assessment:queue"),
    ({Role.ADMIN}, "hotline_admin:index"),
    (POLICE_ROLES, "lea:home"),
    ({Role.ISP_OPERATOR}, "blocking:isp_home"),
    ({Role.PARTNER}, "partner:home"),
    (AUDITOR_ROLES, "audit_log:log"),
]


def home_url(user: User) -> str:
    """The page ``user`` lands on after login (the queue for anyone without a role)."""
    roles = set(user.memberships.values_list("role", flat=True))
    for wanted, url_name in HOMES:
        if roles & wanted:
            return reverse(url_name)
    return reverse("assessment:queue")
