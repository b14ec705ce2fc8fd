"""Exposure and system time: how much material a person had to see, and the time the
system (not people, not policy) added between a verdict and its effects."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openhotline.stats.charts import bar_chart
from openhotline.stats.models import ItemFact
from openhotline.stats.percentiles import summarize
from openhotline.stats.scope import Scope
from openhotline.stats.tables import COUNT, DURATION, SHARE, Column, Table

SYSTEM_STAGES = (
    ("referral_system_s", gettext_lazy("Verdict in force to police referral")),
    (
        "notice_system_s",
        gettext_lazy("Verdict in force to first notice, without the police-first hold"),
    ),
    ("notice_hold_s", gettext_lazy("Police-first hold (policy, not system time)")),
)


def exposure(scope: Scope) -> list[Table]:
    """Items classified in the period and the share no person saw unblurred.

    Known items (an exact match in a hash set the hotline trusts) are the ones
    the hash lists should spare people; new ones must be looked at. The
    country filter does not apply: an item may be on URLs in many countries.
    """
    counts = ItemFact.objects.filter(scope.q("classified_at", country=False))
    row = counts.aggregate(
        n_items=Count("pk"),
        n_hidden=Count("pk", filter=Q(revealed=False)),
        n_known=Count("pk", filter=Q(known=True)),
        n_known_hidden=Count("pk", filter=Q(known=True, revealed=False)),
    )
    rows: list[dict[str, Any]] = []
    for label, items, hidden in (
        (_("All items"), row["n_items"], row["n_hidden"]),
        (_("Known items (trusted hash-set match)"), row["n_known"], row["n_known_hidden"]),
        (_("New items"), row["n_items"] - row["n_known"], row["n_hidden"] - row["n_known_hidden"]),
    ):
        rows.append(
            {
                "kind": label,
                "items": items,
                "hidden": hidden,
                "share": hidden / items if items else None,
            }
        )
    return [
        Table(
            "exposure",
            _("Items never shown unblurred"),
            [
                Column("kind", _("Items")),
                Column("items", _("Classified"), COUNT),
                Column("hidden", _("Never shown unblurred"), COUNT),
                Column("share", _("Share never shown"), SHARE),
            ],
            rows,
            chart=bar_chart(
                _("Share of items never shown unblurred"),
                [(r["kind"], round(100 * (r["share"] or 0), 1)) for r in rows],
                unit=" %",
            ),
            note=_(
                "Items whose current classification was made in the period (confirmed or "
                "waiting for a second analyst). An item counts as "
                "shown once anyone (analyst, senior or police) revealed it past the blur."
            ),
        )
    ]


def system_times(scope: Scope) -> list[Table]:
    summaries = summarize(scope, [name for name, _ in SYSTEM_STAGES])
    rows = [
        {
            "stage": str(label),
            "urls": summaries[name].count,
            "median": summaries[name].median,
            "p90": summaries[name].p90,
        }
        for name, label in SYSTEM_STAGES
    ]
    return [
        Table(
            "system_times",
            _("System time after the verdict"),
            [
                Column("stage", _("From")),
                Column("urls", _("URLs"), COUNT),
                Column("median", _("Median"), DURATION),
                Column("p90", _("90th percentile"), DURATION),
            ],
            rows,
            note=_(
                "From the moment the verdict was in force (confirmed where four eyes are asked): "
                "the queues, workers and notice batching the system added. The police-first hold "
                "is shown apart; the time people took before the verdict is under Times."
            ),
        )
    ]


BUILDERS = ((("exposure",), exposure), (("system_times",), system_times))
