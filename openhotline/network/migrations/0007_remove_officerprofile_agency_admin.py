from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0006_agency_admin_flag_to_role"),
    ]

    operations = [
        migrations.RemoveField(model_name="officerprofile", name="agency_admin"),
    ]
