"""DeconflictionLink moves to the reports app: intake forgets it, the table stays.

State only: the table ``intake_deconflictionlink`` and its rows are kept and
the reports app takes the model over in ``reports.0004``.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DeconflictionLink")],
            database_operations=[],
        ),
    ]
