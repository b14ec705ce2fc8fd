"""``{% url_sources reported_url %}``: the deconfliction box of a reported URL's page."""

from __future__ import annotations

from typing import Any

from django import template

from openhotline.reports.deconfliction import url_sources as compute_url_sources
from openhotline.reports.models import ReportedUrl

register = template.Library()


@register.inclusion_tag("intake/_url_sources.html")
def url_sources(reported_url: ReportedUrl) -> dict[str, Any]:
    return {"sources": compute_url_sources(reported_url)}
