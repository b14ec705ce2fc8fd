"""The agency admin becomes a role: each officer flagged ``agency_admin`` gets the
``agency_admin`` membership in the organisation of their seat.

The seat is the organisation where the officer holds a police role, INTERPOL
first (as ``lea_access.seat_for_user`` chooses). Reversing sets the flag again
for every holder of the role; ``0007`` drops the flag's column.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SEATS = (("interpol", "interpol_officer"), ("lea", "police_officer"))


def flag_to_role(apps: Any, schema_editor: Any) -> None:
    OfficerProfile = apps.get_model("network", "OfficerProfile")
    Membership = apps.get_model("accounts", "Membership")
    for profile in OfficerProfile.objects.filter(agency_admin=True).order_by("pk"):
        for kind, role in SEATS:
            seat = (
                Membership.objects.filter(
                    user_id=profile.user_id, role=role, organisation__kind=kind
                )
                .order_by("pk")
                .first()
            )
            if seat is not None:
                Membership.objects.get_or_create(
                    user_id=profile.user_id,
                    organisation_id=seat.organisation_id,
                    role="agency_admin",
                )
                break


def role_to_flag(apps: Any, schema_editor: Any) -> None:
    OfficerProfile = apps.get_model("network", "OfficerProfile")
    Membership = apps.get_model("accounts", "Membership")
    holders = Membership.objects.filter(role="agency_admin")
    for user_id in holders.values_list("user_id", flat=True).distinct():
        OfficerProfile.objects.update_or_create(user_id=user_id, defaults={"agency_admin": True})
    holders.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_membership_agency_admin_role"),
        ("network", "0005_police_priority_feedback_officer_keys"),
    ]

    operations = [migrations.RunPython(flag_to_role, role_to_flag)]
