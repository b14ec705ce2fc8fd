"""A police referral gets a state: active, withdrawn or corrected by the hotline, when and why."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0002_list_existing_hotlines"),
    ]

    operations = [
        migrations.AddField(
            model_name="policereferral",
            name="state",
            field=models.CharField(
                choices=[
                    ("active", "Active"),
                    ("withdrawn", "Withdrawn by the hotline"),
                    ("corrected", "Corrected by the hotline"),
                ],
                default="active",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="policereferral",
            name="state_changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="policereferral",
            name="state_reason",
            field=models.TextField(blank=True),
        ),
    ]
