"""Referrals withdrawn or corrected before they had a state get it from their timeline.

``do_correct_referrals`` wrote only a timeline entry (``network.referral_withdrawn``
or ``network.referral_corrected``, with the referral's code in ``detail``); the
latest such entry of each referral gives its state, time and reason. Reversing
leaves the state in place: ``0003`` drops the columns.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

KINDS = {
    "network.referral_withdrawn": "withdrawn",
    "network.referral_corrected": "corrected",
}


def fill_states(apps: Any, schema_editor: Any) -> None:
    PoliceReferral = apps.get_model("network", "PoliceReferral")
    TimelineEntry = apps.get_model("reports", "TimelineEntry")
    entries = TimelineEntry.objects.filter(kind__in=KINDS).order_by("created_at", "pk")
    latest: dict[str, Any] = {}
    for entry in entries.iterator():
        code = (entry.detail or {}).get("referral")
        if code:
            latest[code] = entry
    for code, entry in latest.items():
        detail = entry.detail or {}
        PoliceReferral.objects.filter(code=code).update(
            state=KINDS[entry.kind],
            state_changed_at=entry.created_at,
            state_reason=f"The verdict is now {detail.get('after', '?')} "
            f"(was {detail.get('before', '?')})",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0003_policereferral_state"),
        ("reports", "0004_deconflictionlink_from_intake"),
    ]

    operations = [migrations.RunPython(fill_states, migrations.RunPython.noop)]
