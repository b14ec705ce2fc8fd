"""State changes for organisations, users and keys, each with its audit event."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.models import (
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
    with transaction.atomic():
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
        raise AccountError("an enrolment link must stay valid for at least an hour")
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
            raise AccountError("this enrolment link has been used or has expired")
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
