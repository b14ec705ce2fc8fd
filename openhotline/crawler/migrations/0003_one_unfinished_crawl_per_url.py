from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("crawler", "0002_close_duplicate_unfinished_crawls"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="crawlrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state__in", ["queued", "running"])),
                fields=("reported_url",),
                name="one_unfinished_crawl_per_url",
            ),
        ),
    ]
