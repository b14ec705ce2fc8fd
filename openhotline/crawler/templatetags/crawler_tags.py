"""`{% crawl_progress reported_url %}`: the crawl section of the reported URL page;
`{% hosting_data_panel hotline %}`: old hosting data, on the admin home."""

from __future__ import annotations

from typing import Any

from django import template

from openhotline.accounts.models import Organisation, User
from openhotline.crawler.access import can_request_crawl
from openhotline.crawler.hostingdata import STALE_DAYS
from openhotline.crawler.hostingstatus import every_dataset
from openhotline.crawler.models import CrawlRun, HostingRecord
from openhotline.reports.models import ReportedUrl

register = template.Library()


def progress_context(user: User, reported_url: ReportedUrl, *, script: bool) -> dict[str, Any]:
    """The latest crawl of the URL, its hosting trace, and whether the user may crawl again."""
    run = CrawlRun.objects.filter(reported_url=reported_url).first()
    running = run is not None and not run.is_finished()
    hosting = HostingRecord.objects.filter(crawl=run).first() if run is not None else None
    return {
        "reported_url": reported_url,
        "run": run,
        "hosting": hosting,
        "notes": (hosting.detail.get("notes") or []) if hosting is not None else [],
        "errors": (run.errors or [])[:20] if run is not None else [],
        "can_recrawl": can_request_crawl(user, reported_url),
        "running": running,
        # The polling script comes with the full page only; the polled section keeps it going.
        "script": script and running,
    }


@register.inclusion_tag("crawler/_progress.html", takes_context=True)
def crawl_progress(context: template.Context, reported_url: ReportedUrl) -> dict[str, Any]:
    user = context["request"].user
    data = progress_context(user, reported_url, script=True)
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.inclusion_tag("crawler/_hosting_data_panel.html")
def hosting_data_panel(hotline: Organisation) -> dict[str, Any]:
    """The admin home's warning for old hosting data (installation-wide, as the data is).

    The full table is on the domain rules page; here, only what needs the
    operator: the data sets older than STALE_DAYS.
    """
    datasets = every_dataset()
    return {
        "hotline": hotline,
        "count": len(datasets),
        "stale": [item for item in datasets if item.stale],
        "stale_days": STALE_DAYS,
    }
