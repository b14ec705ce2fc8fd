"""Log every existing entry with perceptual hashes as added, so the index of a new
machine (or one rebuilt from the log) holds them. Reversing empties the log."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.utils import timezone

CHUNK = 10_000


def log_entries(apps: Any, schema_editor: Any) -> None:
    entry = apps.get_model("matching", "HashEntry")
    change = apps.get_model("matching", "IndexChange")
    now = timezone.now()
    last = 0
    while True:
        ids = list(
            entry.objects.filter(pk__gt=last)
            .exclude(pdq="", vpdq=[])
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            return
        change.objects.bulk_create(
            [change(entry_id=i, op="a", created_at=now) for i in ids], batch_size=1000
        )
        last = ids[-1]


def empty_log(apps: Any, schema_editor: Any) -> None:
    apps.get_model("matching", "IndexChange").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("matching", "0002_change_log_replicas")]

    operations = [migrations.RunPython(log_entries, empty_log)]
