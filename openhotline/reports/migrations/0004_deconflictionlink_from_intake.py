"""DeconflictionLink moves here from intake, on its existing table.

State only: ``intake.0001`` created the table ``intake_deconflictionlink``
and ``intake.0002`` dropped the model from intake's state; the rows stay.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0002_deconflictionlink_moves_to_reports"),
        ("reports", "0003_one_open_url_per_hotline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DeconflictionLink",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "other_url",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="reports.reportedurl",
                            ),
                        ),
                        (
                            "reported_url",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deconfliction_links",
                                to="reports.reportedurl",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "intake_deconflictionlink",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("reported_url", "other_url"),
                                name="unique_deconfliction_link",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
