# A directory entry's police-first hold in hours with a fraction (was whole hours).

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('network', '0007_remove_officerprofile_agency_admin'),
    ]

    operations = [
        migrations.AlterField(
            model_name='memberhotline',
            name='police_first_hours',
            field=models.FloatField(default=0.0, validators=[django.core.validators.MinValueValidator(0.0), django.core.validators.MaxValueValidator(8784.0)]),
        ),
    ]
