"""What a police or INTERPOL organisation sets: priority rules, flagged series, officer keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyrage
from django.db import transaction
from django.utils.translation import gettext

from openhotline.accounts.models import Membership, Organisation, Role, User
from openhotline.audit.log import record
from openhotline.network.models import AgencySettings, OfficerProfile, PolicePriorityRule

MAX_SERIES = 200


class RecipientInvalid(ValueError):
    """Not an age X25519 recipient."""


def do_save_police_rules(
    organisation: Organisation,
    rules: dict[str, dict[str, Any]],
    flagged: Sequence[str],
    *,
    actor: User,
) -> None:
    """Save the rules (kind -> enabled, weight, cap) and the flagged series, audited."""
    series = sorted({s.strip() for s in flagged if s.strip()}, key=str.casefold)[:MAX_SERIES]
    with transaction.atomic():
        for kind, values in rules.items():
            PolicePriorityRule.objects.update_or_create(
                organisation=organisation, kind=kind, defaults=values
            )
        AgencySettings.objects.update_or_create(
            organisation=organisation, defaults={"flagged_series": series}
        )
        record(
            "lea.priority_rules_changed",
            actor=actor,
            organisation=organisation,
            detail={
                "rules": {k: [v["enabled"], v["weight"], v["cap"]] for k, v in rules.items()},
                "flagged_series": series,
            },
        )


def parse_recipient(text: str) -> str:
    """The age recipient in ``text``, checked; empty text means none."""
    value = (text or "").strip()
    if not value:
        return ""
    try:
        pyrage.x25519.Recipient.from_str(value)
    except pyrage.RecipientError:
        raise RecipientInvalid(gettext("Not an age public key (it starts with age1…).")) from None
    return value


def do_set_age_recipient(user: User, text: str, *, organisation: Organisation) -> str:
    """Register (or clear) the officer's age public key; packages can then be encrypted to it."""
    value = parse_recipient(text)
    with transaction.atomic():
        profile, _ = OfficerProfile.objects.select_for_update().get_or_create(user=user)
        profile.age_recipient = value
        profile.save(update_fields=["age_recipient", "updated_at"])
        record(
            "lea.age_key_set" if value else "lea.age_key_cleared",
            actor=user,
            organisation=organisation,
            obj=user,
            detail={"recipient": value},
        )
    return value


def do_set_agency_admin(user: User, admin: bool, *, organisation: Organisation) -> bool:
    """Make an officer the agency's admin (or stop it), from the command line; True if changed.

    The agency admin is a role (``agency_admin``) in the agency, as on the
    admin pages, where agency admins grant and take it themselves. The
    operator's command line is the way in for the first one and the way
    back for an agency that lost its last: it may take the last one away.
    """
    with transaction.atomic():
        # The same lock as the admin pages' role changes (``accounts.actions``).
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        held = Membership.objects.filter(
            user=user, organisation=organisation, role=Role.AGENCY_ADMIN
        )
        if admin:
            changed = Membership.objects.get_or_create(
                user=user, organisation=organisation, role=Role.AGENCY_ADMIN
            )[1]
        else:
            changed = held.delete()[0] > 0
        if changed:
            record(
                "lea.agency_admin_set" if admin else "lea.agency_admin_unset",
                organisation=organisation,
                obj=user,
            )
    return changed
