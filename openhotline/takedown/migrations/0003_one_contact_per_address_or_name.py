import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("takedown", "0002_merge_duplicate_contacts"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="abusecontact",
            constraint=models.UniqueConstraint(
                models.F("hotline"),
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(
                    ("merged_into__isnull", True), models.Q(("email", ""), _negated=True)
                ),
                name="one_contact_per_address",
            ),
        ),
        migrations.AddConstraint(
            model_name="abusecontact",
            constraint=models.UniqueConstraint(
                models.F("hotline"),
                django.db.models.functions.text.Lower("name"),
                condition=models.Q(("email", ""), ("merged_into__isnull", True)),
                name="one_contact_per_name",
            ),
        ),
    ]
