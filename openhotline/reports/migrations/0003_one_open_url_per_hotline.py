from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("reports", "0002_merge_duplicate_open_urls"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="reportedurl",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    (
                        "state__in",
                        [
                            "assessing",
                            "awaiting_assessment",
                            "crawl_failed",
                            "crawling",
                            "illegal",
                            "new",
                            "notice_sent",
                        ],
                    )
                ),
                fields=("hotline", "normalized_url"),
                name="one_open_url_per_hotline",
            ),
        ),
    ]
