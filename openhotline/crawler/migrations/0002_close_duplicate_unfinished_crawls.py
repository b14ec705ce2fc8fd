"""Close all but one unfinished crawl run of each reported URL.

Two deliveries of a URL's crawl task could each create a run before the
constraint of the next migration existed. The survivor is the running run,
else the oldest; the others are marked failed with a note naming it (their
pages and errors stay). Going back leaves them as they are.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Count
from django.utils import timezone

UNFINISHED = ["queued", "running"]


def close_duplicates(apps: Any, schema_editor: Any) -> None:
    runs = apps.get_model("crawler", "CrawlRun")
    unfinished = runs.objects.filter(state__in=UNFINISHED)
    groups = (
        unfinished.values("reported_url_id")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
        .order_by()
    )
    for group in list(groups):
        rows = list(
            unfinished.filter(reported_url_id=group["reported_url_id"]).order_by("created_at", "pk")
        )
        running = [row for row in rows if row.state == "running"]
        survivor = (running or rows)[0]
        for duplicate in rows:
            if duplicate.pk == survivor.pk:
                continue
            duplicate.state = "failed"
            duplicate.fatal_error = f"a duplicate of crawl {survivor.code}, which carries on"
            duplicate.finished_at = timezone.now()
            duplicate.save(update_fields=["state", "fatal_error", "finished_at", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("crawler", "0001_crawl_runs_pages_hosting_domain_rules"),
    ]

    operations = [migrations.RunPython(close_duplicates, migrations.RunPython.noop)]
