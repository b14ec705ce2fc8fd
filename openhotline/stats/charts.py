"""Charts drawn on the server as SVG: no script, no request to anyone.

Every label is escaped (hoster names come from RDAP records anyone can
write), and each chart carries a text title for screen readers; the table
below it holds the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

BAR = "#1f5fa8"
MUTED = "#9aa5b1"
INK = "#1b1f24"
GRID = "#d7dce2"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    highlight: set[str] | None = None,
    unit: str = "",
    width: int = 640,
    full: float | None = None,
) -> SafeString:
    """Horizontal bars; ``highlight`` labels are drawn muted.

    A bar of ``full`` (e.g. 100 for percentages) spans the width; without it,
    the largest value does. Shares must pass ``full``: scaled to the largest,
    "75 %" would fill the chart as if it were all.
    """
    row_h, label_w, pad = 22, 170, 6
    height = max(1, len(bars)) * row_h + 2 * pad
    top = full or max((v for _, v in bars), default=0) or 1
    inner = width - label_w - 70
    parts = []
    for i, (label, value) in enumerate(bars):
        y = pad + i * row_h
        length = max(1.0, inner * min(value, top) / top) if value else 0.0
        colour = MUTED if highlight and label in highlight else BAR
        short = label if len(label) <= 26 else label[:25] + "…"
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="{}">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
                '<text x="{}" y="{}" font-size="12" fill="{}">{}{}</text>',
                label_w - 6,
                y + 15,
                INK,
                short,
                label_w,
                y + 3,
                f"{length:.1f}",
                row_h - 6,
                colour,
                label,
                f"{_number(value)}{unit}",
                f"{label_w + length + 4:.1f}",
                y + 15,
                INK,
                _number(value),
                unit,
            )
        )
    return _svg(title, width, height, mark_safe("".join(parts)))  # noqa: S308 - each part escaped by format_html


def step_chart(
    title: str, points: Sequence[tuple[datetime, float]], *, width: int = 640, height: int = 220
) -> SafeString:
    """A value over time that holds until it changes (a list's size between versions)."""
    if not points:
        return _svg(
            title,
            width,
            40,
            format_html('<text x="8" y="24" font-size="12">{}</text>', _("No data")),
        )
    left, right, top_pad, bottom = 60, 12, 10, 28
    t0 = points[0][0].timestamp()
    t1 = max(points[-1][0].timestamp(), t0 + 1)
    top = max(v for _, v in points) or 1
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def x(moment: datetime) -> float:
        return left + plot_w * (moment.timestamp() - t0) / (t1 - t0)

    def y(value: float) -> float:
        return top_pad + plot_h * (1 - value / top)

    path = [f"M{x(points[0][0]):.1f},{y(points[0][1]):.1f}"]
    for (_start, before), (moment, value) in zip(points, points[1:], strict=False):
        path.append(f"H{x(moment):.1f}V{y(before):.1f}V{y(value):.1f}")
    axes = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11">0</text>'
        '<text x="{}" y="{}" font-size="11">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>',
        left,
        top_pad + plot_h,
        width - right,
        top_pad + plot_h,
        GRID,
        left - 6,
        top_pad + 10,
        _number(top),
        left - 6,
        top_pad + plot_h,
        left,
        height - 8,
        points[0][0].strftime("%Y-%m-%d"),
        width - right,
        height - 8,
        points[-1][0].strftime("%Y-%m-%d"),
    )
    line = format_html(
        '<path d="{}" fill="none" stroke="{}" stroke-width="2"/>', "".join(path), BAR
    )
    return _svg(title, width, height, axes + line)


def _svg(title: str, width: int, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" '
        'viewBox="0 0 {} {}" width="{}" height="{}"><title>{}</title>{}</svg>',
        title,
        width,
        height,
        width,
        height,
        title,
        body,
    )
