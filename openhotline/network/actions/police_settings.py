"""What a police or INTERPOL organisation sets: priority rules, flagged series, officer keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyrage
from django.db import transaction
from django.utils.translation import gettext

from openhotline.accounts.models import Organisation, User
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


def do_set_agency_admin(user: User, admin: bool, *, organisation: Organisation) -> None:
    """Let an officer edit the agency's priority (or stop it); from the command line."""
    with transaction.atomic():
        profile, _ = OfficerProfile.objects.select_for_update().get_or_create(user=user)
        profile.agency_admin = admin
        profile.save(update_fields=["agency_admin", "updated_at"])
        record(
            "lea.agency_admin_set" if admin else "lea.agency_admin_unset",
            organisation=organisation,
            obj=user,
        )
