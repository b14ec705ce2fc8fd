"""Who may see what: the organisation-level access helpers.

Every tenant-scoped lookup in views and APIs goes through a helper like
these. "Not found" and "not yours" raise the same ``Http404``.
"""

from __future__ import annotations

import hmac

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from openhotline.accounts.models import (
    ANALYST_ROLES,
    API_KEY_PREFIX,
    ApiKey,
    Organisation,
    Role,
    User,
    hash_api_secret,
)


def hotlines_for_user(user: User, *, roles: set[str] | None = None) -> QuerySet[Organisation]:
    """The hotlines whose work ``user`` may see (analyst roles by default)."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    wanted = roles if roles is not None else ANALYST_ROLES
    return Organisation.objects.filter(
        kind="hotline", memberships__user=user, memberships__role__in=wanted
    ).distinct()


def get_hotline_for_user(user: User, slug: str, *, admin: bool = False) -> Organisation:
    roles: set[str] | None = {Role.ADMIN} if admin else None
    try:
        return hotlines_for_user(user, roles=roles).get(slug=slug)
    except Organisation.DoesNotExist:
        raise Http404("No such organisation") from None


def get_api_key(raw: str) -> ApiKey | None:
    """Find the active key for a presented ``oh_<prefix>_<secret>`` string.

    The prefix finds the row; the secret is compared by hash in constant
    time, so a timing difference tells nothing about the stored hash.
    """
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    key = (
        ApiKey.objects.select_related("organisation")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, hash_api_secret(raw.strip())):
        return None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key
