"""List the hotlines that existed before the directory, one per country (data only)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def list_hotlines(apps: Any, schema_editor: Any) -> None:
    organisation = apps.get_model("accounts", "Organisation")
    member = apps.get_model("network", "MemberHotline")
    for org in organisation.objects.filter(kind="hotline").order_by("created_at", "pk"):
        member.objects.get_or_create(
            country=org.country,
            defaults={"name": org.name, "organisation": org, "contact_email": org.contact_email},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("network", "0001_directory_routes_referrals_forwards_lea_packages"),
    ]

    operations = [migrations.RunPython(list_hotlines, migrations.RunPython.noop)]
