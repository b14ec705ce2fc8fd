"""How long each step took, counted from the moment a URL was first reported."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from openhotline.stats.charts import bar_chart
from openhotline.stats.percentiles import WITHIN_DAYS, summarize
from openhotline.stats.scope import Scope
from openhotline.stats.sources import police_acknowledgement
from openhotline.stats.tables import COUNT, DURATION, SHARE, Column, Table

STAGES = (
    ("assessed_s", gettext_lazy("Report to assessment")),
    ("referral_s", gettext_lazy("Report to police referral")),
    ("notice_s", gettext_lazy("Report to first notice")),
    ("removal_s", gettext_lazy("Report to removal")),
)


def times(scope: Scope) -> list[Table]:
    summaries = summarize(scope, [name for name, _ in STAGES])
    rows: list[dict[str, Any]] = []
    for name, label in STAGES:
        s = summaries[name]
        row: dict[str, Any] = {
            "stage": str(label),
            "urls": s.count,
            "median": s.median,
            "p90": s.p90,
        }
        row.update({f"within_{d}": s.share_within(d) for d in WITHIN_DAYS})
        rows.append(row)
    removal = summaries["removal_s"]
    chart = bar_chart(
        _("Share of removed URLs removed within 1, 3 and 7 days of the report"),
        [
            (
                ngettext("within %(n)s day", "within %(n)s days", d) % {"n": d},
                round(100 * (removal.share_within(d) or 0), 1),
            )
            for d in WITHIN_DAYS
        ],
        unit=" %",
        full=100,
    )
    columns = [
        Column("stage", _("From the report to")),
        Column("urls", _("URLs"), COUNT),
        Column("median", _("Median"), DURATION),
        Column("p90", _("90th percentile"), DURATION),
        *[
            Column(
                f"within_{d}",
                ngettext("Within %(n)s day", "Within %(n)s days", d) % {"n": d},
                SHARE,
            )
            for d in WITHIN_DAYS
        ],
    ]
    return [
        Table(
            "times",
            _("Times from the report"),
            columns,
            rows,
            chart=chart,
            note=_(
                "Each time counts from the first report of the URL, for URLs first reported in "
                "the period that reached the step; shares are of those URLs."
            ),
        )
    ]


def police(scope: Scope) -> list[Table]:
    """The loop back from the police: how soon referrals were acknowledged."""
    ack = police_acknowledgement(scope)
    return [
        Table(
            "police_acknowledgement",
            _("Police acknowledgement of referrals"),
            [
                Column("referrals", _("Referrals made"), COUNT),
                Column("acknowledged", _("Acknowledged"), COUNT),
                Column("within_24h", _("Acknowledged within 24 h"), SHARE),
                Column("median", _("Median time to acknowledgement"), DURATION),
            ],
            [
                {
                    "referrals": ack.referrals,
                    "acknowledged": ack.acknowledged,
                    "within_24h": ack.share_within_24h,
                    "median": ack.median_s,
                }
            ],
            note=_(
                "Referrals made in the period. The share is of every referral made; the "
                "median is of those the police acknowledged in the portal."
            ),
        )
    ]


BUILDERS = ((("times",), times), (("police_acknowledgement",), police))
