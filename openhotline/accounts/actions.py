"""State changes for organisations, users and keys, each with its audit event."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.models import (
    ORGANISATION_ADMIN_ROLE,
    ROLES_BY_KIND,
    ApiKey,
    EnrolmentLink,
    Membership,
    Organisation,
    User,
)
from openhotline.audit.log import record


class AccountError(ValueError):
    """A provisioning request that cannot be carried out, with the reason."""


def do_create_organisation(
    name: str, kind: str, country: str, *, actor: User | None = None, contact_email: str = ""
) -> Organisation:
    from django_countries import countries

    country = country.upper()
    if country not in dict(countries):
        raise AccountError(f"unknown country code {country!r} (use ISO 3166-1 alpha-2, e.g. DK)")
    if kind not in ROLES_BY_KIND:
        raise AccountError(f"unknown kind {kind!r} (one of {', '.join(ROLES_BY_KIND)})")
    if Organisation.objects.filter(name=name).exists():
        raise AccountError(f"an organisation named {name!r} already exists")
    base = slugify(name)[:50] or "org"
    slug = base
    counter = 2
    while Organisation.objects.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    with transaction.atomic():
        org = Organisation.objects.create(
            name=name, slug=slug, kind=kind, country=country, contact_email=contact_email
        )
        record(
            "organisation.created",
            actor=actor,
            organisation=org,
            obj=org,
            detail={"kind": kind, "country": country},
        )
    return org


def do_add_membership(
    user: User, organisation: Organisation, role: str, *, actor: User | None = None
) -> Membership:
    allowed = ROLES_BY_KIND[organisation.kind]
    if role not in allowed:
        raise AccountError(
            f"role {role!r} does not fit a {organisation.kind} organisation "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, organisation=organisation, role=role
        )
        if created:
            record(
                "membership.added",
                actor=actor,
                organisation=organisation,
                obj=user,
                detail={"role": role},
            )
    return membership


def do_create_user(
    username: str,
    organisation: Organisation,
    role: str,
    *,
    password: str | None,
    email: str = "",
    actor: User | None = None,
) -> User:
    if User.objects.filter(username=username).exists():
        raise AccountError(f"a user named {username!r} already exists")
    with transaction.atomic():
        user = User(username=username, email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        record("user.created", actor=actor, organisation=organisation, obj=user)
        do_add_membership(user, organisation, role, actor=actor)
    return user


def do_create_api_key(
    organisation: Organisation, name: str, scope: str, *, actor: User | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with the full secret, which is never stored."""
    full_key, prefix, secret_hash = ApiKey.generate()
    with transaction.atomic():
        key = ApiKey.objects.create(
            organisation=organisation,
            name=name,
            prefix=prefix,
            secret_hash=secret_hash,
            scope=scope,
            created_by=actor,
        )
        record(
            "api_key.created",
            actor=actor,
            organisation=organisation,
            obj=key,
            detail={"prefix": prefix, "scope": scope},
        )
    return key, full_key


def do_revoke_api_key(key: ApiKey, *, actor: User | None = None) -> None:
    """Revoke ``key`` at once (a key revoked already stays as it was)."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().select_related("organisation").get(pk=key.pk)
        if key.revoked_at is not None:
            return
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        record(
            "api_key.revoked",
            actor=actor,
            organisation=key.organisation,
            obj=key,
            detail={"prefix": key.prefix},
        )


def _home_organisation(user: User) -> Organisation | None:
    membership = user.memberships.select_related("organisation").order_by("pk").first()
    return membership.organisation if membership is not None else None


def do_issue_enrolment_link(
    user: User, *, actor: User | None = None, hours: int = 72
) -> tuple[EnrolmentLink, str]:
    """Issue a one-time enrolment link and return it with its token (never stored).

    Earlier links of the user that are still open stop working: only the
    newest one counts.
    """
    if hours < 1:
        raise AccountError(gettext("an enrolment link must stay valid for at least an hour"))
    token, token_hash = EnrolmentLink.generate()
    now = timezone.now()
    with transaction.atomic():
        EnrolmentLink.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        link = EnrolmentLink.objects.create(
            user=user,
            token_hash=token_hash,
            created_by=actor,
            expires_at=now + timedelta(hours=hours),
        )
        record(
            "user.enrolment_link_issued",
            actor=actor,
            organisation=_home_organisation(user),
            obj=user,
            detail={"link": link.pk, "expires_at": link.expires_at.isoformat()},
        )
    return link, token


def do_enrol_with_link(link: EnrolmentLink, device: TOTPDevice) -> None:
    """Use the link once: confirm ``device`` as the user's only authenticator.

    The conditional UPDATE claims the link: of two requests that race with
    the same link, exactly one changes a row; the other gets AccountError.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = EnrolmentLink.objects.filter(
            pk=link.pk, user=device.user, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            raise AccountError(gettext("this enrolment link has been used or has expired"))
        # One confirmed device at a time: enrolling again replaces the old one.
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(
            "user.totp_enrolled",
            actor=device.user,
            organisation=_home_organisation(device.user),
            obj=device.user,
            detail={"link": link.pk},
        )


def do_record_login(user: User, *, second_factor: bool, enrolment: bool = False) -> None:
    """Audit a completed sign-in (the session itself is Django's ``login``)."""
    detail: dict[str, bool] = {"second_factor": second_factor}
    if enrolment:
        detail["enrolment"] = True
    record("user.login", actor=user, detail=detail)


# --- Managing an organisation's people (the admin pages) ---
# A hotline's people are managed by its admin, a police force's or INTERPOL's
# by its agency admin (``ORGANISATION_ADMIN_ROLE``); the same rules apply.


def _admin_role(organisation: Organisation) -> str | None:
    return ORGANISATION_ADMIN_ROLE.get(organisation.kind)


def _admins_left(hotline: Organisation, *, without: User) -> bool:
    """Whether ``hotline`` keeps an active admin other than ``without``.

    The callers hold the organisation's row lock (taken first in their
    transaction), so two admins taken away at once are checked one after the
    other and the second sees the first's change (``tests/accounts/test_last_admin_race.py``).
    """
    return (
        Membership.objects.filter(
            organisation=hotline, role=_admin_role(hotline), user__is_active=True
        )
        .exclude(user=without)
        .exists()
    )


def _only_here(user: User, hotline: Organisation) -> None:
    """Refuse to change an account that also works for another organisation.

    A hotline's admin manages the people of that hotline; an account shared
    with another organisation is that organisation's business too.
    """
    if user.memberships.exclude(organisation=hotline).exists():
        raise AccountError(
            gettext(
                "%(user)s also belongs to another organisation; "
                "ask the operator (openhotline user …)"
            )
            % {"user": user.get_username()}
        )


def do_invite_user(
    hotline: Organisation, username: str, role: str, *, email: str = "", actor: User
) -> tuple[User, str]:
    """Create an account with no password yet and return it with its invitation token.

    The invitation is an enrolment link (``do_issue_enrolment_link``): the
    invitee chooses a password and enrols an authenticator through it, so
    nobody can log in to the account before its second factor exists.
    """
    username = username.strip()
    if not username:
        raise AccountError(gettext("a username is required"))
    with transaction.atomic():
        user = do_create_user(username, hotline, role, password=None, email=email, actor=actor)
        _, token = do_issue_enrolment_link(user, actor=actor)
    return user, token


def do_set_initial_password(link: EnrolmentLink, password: str) -> None:
    """Set the first password of an invited account, through its open enrolment link."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=link.user_id)
        if user.has_usable_password():
            raise AccountError(gettext("this account already has a password"))
        if not link.is_usable():
            raise AccountError(gettext("this enrolment link has been used or has expired"))
        user.set_password(password)
        user.save(update_fields=["password"])
        record(
            "user.password_chosen",
            actor=user,
            organisation=_home_organisation(user),
            obj=user,
            detail={"link": link.pk},
        )


def do_set_roles(user: User, hotline: Organisation, roles: set[str], *, actor: User) -> None:
    """Give ``user`` exactly ``roles`` in ``hotline`` (at least one).

    The last active admin of a hotline (or agency admin of a police force)
    keeps the role, so an organisation can never lock itself out of its own
    settings.
    """
    allowed = ROLES_BY_KIND[hotline.kind]
    admin_role = _admin_role(hotline)
    if not roles:
        raise AccountError(
            gettext("choose at least one role (deactivate the account to remove it)")
        )
    if not roles <= allowed:
        raise AccountError(
            gettext("roles %(roles)s do not fit %(organisation)s")
            % {"roles": ", ".join(sorted(roles - allowed)), "organisation": hotline.name}
        )
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=hotline.pk)
        current = set(
            Membership.objects.filter(user=user, organisation=hotline).values_list(
                "role", flat=True
            )
        )
        if not current:
            raise AccountError(
                gettext("%(user)s is not a member of %(hotline)s")
                % {"user": user.get_username(), "hotline": hotline.name}
            )
        if (
            admin_role in current
            and admin_role not in roles
            and not _admins_left(hotline, without=user)
        ):
            raise AccountError(
                gettext("%(user)s is the last admin of %(organisation)s")
                % {"user": user.get_username(), "organisation": hotline.name}
            )
        removed, added = current - roles, roles - current
        if not removed and not added:
            return
        Membership.objects.filter(user=user, organisation=hotline, role__in=removed).delete()
        for role in sorted(added):
            Membership.objects.create(user=user, organisation=hotline, role=role)
        record(
            "membership.roles_set",
            actor=actor,
            organisation=hotline,
            obj=user,
            detail={"added": sorted(added), "removed": sorted(removed)},
        )


def do_deactivate_user(user: User, hotline: Organisation, *, actor: User) -> None:
    """Stop ``user`` from logging in; their sessions end (inactive users are not loaded).

    Accounts are deactivated, never deleted: the audit chain names them.
    """
    if user.pk == actor.pk:
        raise AccountError(gettext("you cannot deactivate your own account"))
    _only_here(user, hotline)
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=hotline.pk)
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            return
        is_admin = user.memberships.filter(organisation=hotline, role=_admin_role(hotline))
        if is_admin.exists() and not _admins_left(hotline, without=user):
            raise AccountError(
                gettext("%(user)s is the last admin of %(organisation)s")
                % {"user": user.get_username(), "organisation": hotline.name}
            )
        user.is_active = False
        user.save(update_fields=["is_active"])
        EnrolmentLink.objects.filter(user=user, used_at__isnull=True).update(
            expires_at=timezone.now()
        )
        record("user.deactivated", actor=actor, organisation=hotline, obj=user)


def do_reactivate_user(user: User, hotline: Organisation, *, actor: User) -> None:
    _only_here(user, hotline)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active:
            return
        user.is_active = True
        user.save(update_fields=["is_active"])
        record("user.reactivated", actor=actor, organisation=hotline, obj=user)


def do_reset_second_factor(user: User, hotline: Organisation, *, actor: User) -> str:
    """Remove ``user``'s authenticators and return the token of a new enrolment link.

    Until the link is used the account cannot log in (the login needs a code).
    """
    if user.pk == actor.pk:
        # The rule of enrolment links: whoever knows the password does not also
        # set up its second factor. Another admin, or the operator, resets it.
        raise AccountError(gettext("another admin resets your own second factor"))
    _only_here(user, hotline)
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        record(
            "user.second_factor_reset",
            actor=actor,
            organisation=hotline,
            obj=user,
            detail={"devices_removed": removed},
        )
        _, token = do_issue_enrolment_link(user, actor=actor)
    return token
