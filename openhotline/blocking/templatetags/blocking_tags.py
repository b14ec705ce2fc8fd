"""`{% blocking_panel reported_url %}`: the blocklist section of the reported URL page.

The URL's blocklist entries, and a "Propose for blocking" link to the
proposal form with the URL and its code as evidence filled in; the form's
own checks (the verdict in force, four-eyes) apply as for any proposal.
"""

from __future__ import annotations

from typing import Any

from django import template

from openhotline.blocking.models import BlocklistEntry
from openhotline.reports.models import ReportedUrl

register = template.Library()


@register.inclusion_tag("blocking/_url_panel.html")
def blocking_panel(reported_url: ReportedUrl) -> dict[str, Any]:
    # The page is the hotline's own (``reports.views`` fetched the URL for the user).
    entries = list(
        BlocklistEntry.objects.filter(
            hotline_id=reported_url.hotline_id, evidence=reported_url
        ).order_by("-proposed_at")[:10]
    )
    return {
        "reported_url": reported_url,
        "entries": entries,
        "has_active": any(e.state != "delisted" for e in entries),
    }
