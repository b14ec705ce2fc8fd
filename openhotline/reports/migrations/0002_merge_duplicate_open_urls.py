"""Merge open reported URLs that repeat one address of one hotline.

Concurrent reports could create several open reported URLs for one address
before the constraint ``one_open_url_per_hotline`` (next migration) existed.
Per group, the survivor is the one furthest along (a notice sent beats an
illegal verdict, which beats awaiting assessment, ...), the oldest among
equals. Each other one hands its reports and reported file hashes to the
survivor and is closed, keeping its own crawls and history, with a timeline
entry on both sides. Going back leaves the merge in place.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Count

# UrlState values in order of progress; all of them are the open states.
PROGRESS = [
    "new",
    "crawling",
    "crawl_failed",
    "awaiting_assessment",
    "assessing",
    "illegal",
    "notice_sent",
]


def merge_duplicates(apps: Any, schema_editor: Any) -> None:
    reported_urls = apps.get_model("reports", "ReportedUrl")
    report_links = apps.get_model("reports", "ReportLink")
    timeline = apps.get_model("reports", "TimelineEntry")
    file_hashes = apps.get_model("intake", "ReportedFileHash")
    groups = (
        reported_urls.objects.filter(state__in=PROGRESS)
        .values("hotline_id", "normalized_url")
        .annotate(rows=Count("id"))
        .filter(rows__gt=1)
        .order_by()
    )
    for group in list(groups):
        rows = list(
            reported_urls.objects.filter(
                state__in=PROGRESS,
                hotline_id=group["hotline_id"],
                normalized_url=group["normalized_url"],
            ).order_by("created_at", "pk")
        )
        survivor = max(rows, key=lambda row: (PROGRESS.index(row.state), -rows.index(row)))
        for duplicate in rows:
            if duplicate.pk == survivor.pk:
                continue
            for link in report_links.objects.filter(reported_url=duplicate):
                if report_links.objects.filter(
                    report_id=link.report_id, reported_url=survivor
                ).exists():
                    link.delete()
                else:
                    link.reported_url = survivor
                    link.save(update_fields=["reported_url"])
            file_hashes.objects.filter(reported_url=duplicate).update(reported_url=survivor)
            duplicate.state = "closed"
            duplicate.save(update_fields=["state", "updated_at"])
            timeline.objects.create(
                reported_url=duplicate,
                kind="url.merged",
                message=f"Closed: a duplicate of {survivor.code}, which now has its reports",
                detail={"into": survivor.code},
            )
            timeline.objects.create(
                reported_url=survivor,
                kind="url.merged",
                message=f"The reports of duplicate {duplicate.code} moved here",
                detail={"from": duplicate.code},
            )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("intake", "0001_initial"),
    ]

    operations = [migrations.RunPython(merge_duplicates, migrations.RunPython.noop)]
