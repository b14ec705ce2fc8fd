"""Formatting of figures for people: counts, shares, durations and times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def duration(seconds: float | None) -> str:
    """Minutes under an hour, hours under two days, days beyond."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return _("%(days)s days") % {"days": f"{seconds / 86400:.1f}"}


@register.filter
def stat(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{100 * value:.1f} %"
    if kind == "duration":
        return duration(value)
    if kind == "time" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "count":
        return f"{value:,}" if isinstance(value, int) else str(value)
    return str(value)
