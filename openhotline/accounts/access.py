"""Who may see what: the organisation-level access helpers.

Every tenant-scoped lookup in views and APIs goes through a helper like
these. "Not found" and "not yours" raise the same ``Http404``.

- ``request_user(request)``: the signed-in ``User`` of a view behind
  ``staff_required`` (the one way views get their user);
- ``hotlines_for_user(user, roles=…)``: the hotlines a user works for in
  one of ``roles`` (a role set from ``accounts.models``);
- ``get_hotline_for_user(user, slug, roles=…)``: one of those, or 404;
- ``has_role(user, hotline, roles)``: the one role check;
- ``administered_organisations(user)`` / ``get_administered_organisation``:
  the organisations whose people ``user`` manages (a hotline as its admin, a
  police force or INTERPOL as its agency admin), or 404;
- ``get_member_for_admin(user, slug, username)``: an organisation the user
  administers and one of its members, or 404;
- ``audited_organisations(user)`` / ``audit_events_for_user(user)``: what an
  auditor's audit-log viewer shows (their organisations' events, and those of
  the organisations' members);
- ``get_own_organisation(user, roles)``: the organisation where ``user``
  holds one of ``roles`` (an ISP's or a partner's own pages), or 404;
- ``get_own_api_key(user, prefix)``: a key of that organisation, or 404;
- ``request_api_key(request)``: the API key of a request to the JSON API (the
  one way API routes get their key).
"""

from __future__ import annotations

import hmac

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from openhotline.accounts.models import (
    ANALYST_ROLES,
    API_KEY_PREFIX,
    AUDITOR_ROLES,
    ORGANISATION_ADMIN_ROLE,
    ApiKey,
    Membership,
    Organisation,
    Role,
    User,
    hash_api_secret,
)
from openhotline.audit.models import AuditEvent


def request_user(request: HttpRequest) -> User:
    """The signed-in user of ``request``; views call it behind ``staff_required``.

    An anonymous request here is a missing decorator, so it is refused
    rather than let through.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first")
    return user


def request_api_key(request: HttpRequest) -> ApiKey:
    """The API key the router authenticated ``request`` with (``openhotline.api``).

    A request without one here is a route without authentication, so it is
    refused rather than let through.
    """
    key = getattr(request, "auth", None)
    if not isinstance(key, ApiKey):
        raise PermissionDenied("An API key is required")
    return key


def hotlines_for_user(user: User, *, roles: set[str] | None = None) -> QuerySet[Organisation]:
    """The hotlines whose work ``user`` may see (analyst roles by default)."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    wanted = roles if roles is not None else ANALYST_ROLES
    return Organisation.objects.filter(
        kind="hotline", memberships__user=user, memberships__role__in=wanted
    ).distinct()


def get_hotline_for_user(user: User, slug: str, *, roles: set[str] | None = None) -> Organisation:
    """The hotline ``slug`` if ``user`` holds one of ``roles`` there (analyst roles by default)."""
    try:
        return hotlines_for_user(user, roles=roles).get(slug=slug)
    except Organisation.DoesNotExist:
        raise Http404("No such hotline") from None


def has_role(user: User, hotline: Organisation | int, roles: set[str]) -> bool:
    """Whether ``user`` holds one of ``roles`` in ``hotline`` (an organisation or its id)."""
    pk = hotline if isinstance(hotline, int) else hotline.pk
    return hotlines_for_user(user, roles=roles).filter(pk=pk).exists()


def administered_organisations(user: User) -> QuerySet[Organisation]:
    """The organisations whose people ``user`` manages: each where they hold its admin role."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    # One filter() call: the kind and the role are matched on the same membership.
    held = Q()
    for kind, role in ORGANISATION_ADMIN_ROLE.items():
        held |= Q(kind=kind, memberships__role=role)
    return Organisation.objects.filter(held, memberships__user=user).distinct()


def get_administered_organisation(user: User, slug: str) -> Organisation:
    try:
        return administered_organisations(user).get(slug=slug)
    except Organisation.DoesNotExist:
        raise Http404("No such organisation") from None


def get_member_for_admin(user: User, slug: str, username: str) -> tuple[Organisation, User]:
    """The organisation ``slug`` that ``user`` administers, and its member ``username``."""
    organisation = get_administered_organisation(user, slug)
    member = User.objects.filter(memberships__organisation=organisation, username=username).first()
    if member is None:
        raise Http404("No such member")
    return organisation, member


def audited_organisations(user: User) -> QuerySet[Organisation]:
    """The organisations whose audit log ``user`` reads (as their auditor)."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        memberships__user=user, memberships__role__in=AUDITOR_ROLES
    ).distinct()


def audit_events_for_user(user: User) -> QuerySet[AuditEvent]:
    """The events an auditor may read: made for their organisations, or by their members.

    A login carries no organisation; it is found by its actor's membership.
    Nothing for a user who audits no organisation.
    """
    orgs = audited_organisations(user)
    members = Membership.objects.filter(organisation__in=orgs).values("user_id")
    return AuditEvent.objects.filter(Q(organisation__in=orgs) | Q(actor_id__in=members))


# Who manages their organisation's API keys in the interface.
KEY_ROLES: set[str] = {Role.ISP_OPERATOR, Role.PARTNER}


def get_own_organisation(user: User, roles: set[str]) -> Organisation:
    """The (first) organisation where ``user`` holds one of ``roles``; 404 if none."""
    org = (
        Organisation.objects.filter(memberships__user=user, memberships__role__in=roles)
        .order_by("pk")
        .first()
    )
    if org is None:
        raise Http404("No such organisation")
    return org


def get_own_api_key(user: User, prefix: str) -> ApiKey:
    """A key of the user's own ISP or partner organisation, by its public prefix."""
    org = get_own_organisation(user, KEY_ROLES)
    try:
        return ApiKey.objects.select_related("organisation").get(organisation=org, prefix=prefix)
    except ApiKey.DoesNotExist:
        raise Http404("No such key") from None


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
