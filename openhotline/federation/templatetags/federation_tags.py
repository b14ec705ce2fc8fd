"""`{% federation_panel reported_url %}`: a URL forwarded by a peer, and its media on request."""

from __future__ import annotations

from typing import Any

from django import template

from openhotline.accounts.access import has_role
from openhotline.accounts.models import ANALYST_ROLES
from openhotline.federation.models import IncomingForward, MediaRequestState
from openhotline.reports.models import ReportedUrl

register = template.Library()


@register.inclusion_tag("federation/_panel.html", takes_context=True)
def federation_panel(context: template.Context, reported_url: ReportedUrl) -> dict[str, Any]:
    incoming = (
        IncomingForward.objects.filter(reported_url=reported_url).select_related("peer").first()
    )
    if incoming is None:
        return {"incoming": None}
    requests = list(incoming.media_requests.select_related("requested_by")[:20])
    waiting = any(r.state == MediaRequestState.REQUESTED for r in requests)
    return {
        "incoming": incoming,
        "reported_url": reported_url,
        "requests": requests,
        "can_ask": not waiting
        and has_role(context["request"].user, reported_url.hotline_id, ANALYST_ROLES),
        "csrf_token": context.get("csrf_token"),
    }
