"""`{% network_panel reported_url %}`: the network section of the reported URL page."""

from __future__ import annotations

from typing import Any

from django import template

from openhotline.network.panel import panel_context
from openhotline.reports.models import ReportedUrl

register = template.Library()


@register.inclusion_tag("network/_panel.html", takes_context=True)
def network_panel(context: template.Context, reported_url: ReportedUrl) -> dict[str, Any]:
    data = panel_context(context["request"].user, reported_url)
    data["csrf_token"] = context.get("csrf_token")
    return data
