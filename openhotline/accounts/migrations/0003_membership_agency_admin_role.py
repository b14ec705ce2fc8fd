from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_enrolment_links"),
    ]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("analyst", "Analyst"),
                    ("senior_analyst", "Senior analyst"),
                    ("admin", "Hotline admin"),
                    ("police_officer", "Police officer"),
                    ("interpol_officer", "INTERPOL officer"),
                    ("agency_admin", "Agency admin"),
                    ("isp_operator", "ISP operator"),
                    ("partner", "Partner"),
                    ("auditor", "Auditor"),
                ],
                max_length=30,
            ),
        ),
    ]
