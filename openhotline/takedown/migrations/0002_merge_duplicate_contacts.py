"""Merge abuse contacts that repeat one address (or, without one, one name) of a hotline.

Two traces finishing at once could each create the contact before the
constraints of the next migration existed. Per group the survivor is the
oldest approved contact, else the oldest; each other one is merged into it
as ``do_merge_contacts`` does (its cases, merges and escalations move, and it
points at the survivor, so a later trace still lands there). Going back
leaves the merge in place.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower


def _merge(contacts: Any, cases: Any, rows: list[Any]) -> None:
    approved = [row for row in rows if row.approved_at is not None]
    survivor = (approved or rows)[0]
    for duplicate in rows:
        if duplicate.pk == survivor.pk:
            continue
        cases.objects.filter(contact=duplicate).update(contact=survivor)
        contacts.objects.filter(merged_into=duplicate).update(merged_into=survivor)
        contacts.objects.filter(escalate_to=duplicate).update(escalate_to=survivor)
        duplicate.merged_into = survivor
        duplicate.save(update_fields=["merged_into", "updated_at"])
    if survivor.escalate_to_id == survivor.pk:
        survivor.escalate_to = None
        survivor.save(update_fields=["escalate_to", "updated_at"])


def merge_duplicates(apps: Any, schema_editor: Any) -> None:
    contacts = apps.get_model("takedown", "AbuseContact")
    cases = apps.get_model("takedown", "TakedownCase")
    unmerged = contacts.objects.filter(merged_into__isnull=True)
    for field, rows in (("email", unmerged.exclude(email="")), ("name", unmerged.filter(email=""))):
        groups = (
            rows.annotate(key=Lower(field))
            .values("hotline_id", "key")
            .annotate(count=Count("id"))
            .filter(count__gt=1)
            .order_by()
        )
        for group in list(groups):
            members = list(
                rows.annotate(key=Lower(field))
                .filter(hotline_id=group["hotline_id"], key=group["key"])
                .order_by("created_at", "pk")
            )
            _merge(contacts, cases, members)


class Migration(migrations.Migration):
    dependencies = [
        ("takedown", "0001_contacts_templates_cases_notices_rechecks"),
    ]

    operations = [migrations.RunPython(merge_duplicates, migrations.RunPython.noop)]
