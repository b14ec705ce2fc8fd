"""Organisations, users, roles and API keys.

One installation serves many organisations (ICCAM model). A hotline is a
tenant: its reports are visible to its own members only. Users belong to
organisations through memberships, each with one role.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class OrgKind(models.TextChoices):
    HOTLINE = "hotline", _("Hotline")
    LEA = "lea", _("Law enforcement")
    INTERPOL = "interpol", _("INTERPOL")
    ISP = "isp", _("Internet provider")
    PARTNER = "partner", _("Partner")


class Role(models.TextChoices):
    ANALYST = "analyst", _("Analyst")
    SENIOR_ANALYST = "senior_analyst", _("Senior analyst")
    ADMIN = "admin", _("Hotline admin")
    POLICE_OFFICER = "police_officer", _("Police officer")
    INTERPOL_OFFICER = "interpol_officer", _("INTERPOL officer")
    AGENCY_ADMIN = "agency_admin", _("Agency admin")
    ISP_OPERATOR = "isp_operator", _("ISP operator")
    PARTNER = "partner", _("Partner")
    AUDITOR = "auditor", _("Auditor")


# Which roles make sense in which kind of organisation.
ROLES_BY_KIND: dict[str, set[str]] = {
    OrgKind.HOTLINE: {Role.ANALYST, Role.SENIOR_ANALYST, Role.ADMIN, Role.AUDITOR},
    OrgKind.LEA: {Role.POLICE_OFFICER, Role.AGENCY_ADMIN, Role.AUDITOR},
    OrgKind.INTERPOL: {Role.INTERPOL_OFFICER, Role.AGENCY_ADMIN, Role.AUDITOR},
    OrgKind.ISP: {Role.ISP_OPERATOR},
    OrgKind.PARTNER: {Role.PARTNER},
}

# The role sets, named once here; every check goes through
# ``accounts.access.has_role`` / ``hotlines_for_user`` with one of them.
# Roles that may work a hotline's queue; senior analysts and admins included.
ANALYST_ROLES: set[str] = {Role.ANALYST, Role.SENIOR_ANALYST, Role.ADMIN}
# Roles that settle disputes, take over claims and publish the blocklist.
SENIOR_ROLES: set[str] = {Role.SENIOR_ANALYST, Role.ADMIN}
# Roles that edit a hotline's settings, contacts, templates and domain rules.
ADMIN_ROLES: set[str] = {Role.ADMIN}
# Blocklist approvers: senior analysts only. An admin manages the list's
# settings but is not a second pair of analyst's eyes on an entry, so the
# admin role is left out on purpose.
SENIOR_ANALYSTS_NOT_ADMINS: set[str] = {Role.SENIOR_ANALYST}
# Roles that see the whole network's statistics.
AUDITOR_ROLES: set[str] = {Role.AUDITOR}
# Roles with a police seat (a force's or INTERPOL's). The agency admin is one
# of the agency's officers who also edits its priority and manages its people.
POLICE_ROLES: set[str] = {Role.POLICE_OFFICER, Role.INTERPOL_OFFICER, Role.AGENCY_ADMIN}
# The role that manages an organisation's people on the admin pages, by kind;
# the last active holder keeps it. ISPs and partners are the operator's (CLI).
ORGANISATION_ADMIN_ROLE: dict[str, str] = {
    OrgKind.HOTLINE: Role.ADMIN,
    OrgKind.LEA: Role.AGENCY_ADMIN,
    OrgKind.INTERPOL: Role.AGENCY_ADMIN,
}
# Roles that manage some organisation's people (the navigation's "Administration").
PEOPLE_ADMIN_ROLES: set[str] = set(ORGANISATION_ADMIN_ROLE.values())


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=OrgKind.choices)
    country = CountryField()
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person with an account. Public reporters have none."""

    def has_confirmed_totp(self) -> bool:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return TOTPDevice.objects.filter(user=self, confirmed=True).exists()

    def is_second_factor_verified(self) -> bool:
        """True once this session's login was confirmed with a TOTP code.

        django-otp's middleware attaches ``is_verified`` to the request's user.
        """
        check = getattr(self, "is_verified", None)
        return bool(check()) if callable(check) else False


class Membership(models.Model):
    user = models.ForeignKey(User, models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="unique_membership_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


API_KEY_PREFIX = "oh"


def hash_api_secret(secret: str) -> str:
    # API keys carry 256 random bits, so a fast hash is enough; a password
    # hash would only slow every API request.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    """A key for the partner, feed and LEA APIs. Only its hash is stored."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=20, choices=ApiKeyScope.choices)
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """Return ``(full_key, prefix, secret_hash)``; the full key is shown once."""
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        full_key = f"{API_KEY_PREFIX}_{prefix}_{secret}"
        return full_key, prefix, hash_api_secret(full_key)

    def is_active(self) -> bool:
        return self.revoked_at is None

    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.READ_WRITE


def hash_enrolment_token(token: str) -> str:
    # 256 random bits, like API keys: a fast hash is enough.
    return hashlib.sha256(token.encode()).hexdigest()


class EnrolmentLink(models.Model):
    """A one-time link, issued by an admin, that enrols a user's authenticator.

    Whoever first knows a password must not be the one who sets up its second
    factor: the first authenticator (and any replacement) comes only through
    such a link. Only the token's hash is stored; the link is single use and
    expires.
    """

    user = models.ForeignKey(User, models.CASCADE, related_name="enrolment_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"enrolment link for {self.user}"

    @staticmethod
    def generate() -> tuple[str, str]:
        """Return ``(token, token_hash)``; the token is shown once, in the link."""
        token = secrets.token_urlsafe(32)
        return token, hash_enrolment_token(token)

    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
