import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("evidence", "0002_widen_media_format"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="StorageAlarm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("bytes_stored", models.BigIntegerField()),
                ("threshold", models.BigIntegerField()),
                ("raised_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("checked_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "hotline",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="storage_alarm",
                        to="accounts.organisation",
                    ),
                ),
            ],
        ),
    ]
