"""Assessments finished before four-eyes gating were routed at once: they are in force."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import F


def forwards(apps: Any, schema_editor: Any) -> None:
    UrlAssessment = apps.get_model("assessment", "UrlAssessment")
    UrlAssessment.objects.filter(in_force_at__isnull=True).update(in_force_at=F("assessed_at"))


def backwards(apps: Any, schema_editor: Any) -> None:
    UrlAssessment = apps.get_model("assessment", "UrlAssessment")
    UrlAssessment.objects.update(in_force_at=None)


class Migration(migrations.Migration):
    dependencies = [("assessment", "0003_four_eyes_in_force_blind_confirmation")]

    operations = [migrations.RunPython(forwards, backwards)]
