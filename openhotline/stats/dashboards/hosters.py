"""Notices per hoster, and the hosters slowest to remove material after a notice."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from openhotline.stats import sources
from openhotline.stats.charts import bar_chart
from openhotline.stats.percentiles import contact_medians, percentile_cont, sorted_durations
from openhotline.stats.scope import Scope
from openhotline.stats.tables import COUNT, DURATION, Column, Table

SHOWN = 50
SLOWEST_SHOWN = 20


def _members(roots: dict[int, int]) -> dict[int, list[int]]:
    """Each contact that others were merged into, with all of them."""
    groups: dict[int, list[int]] = defaultdict(list)
    for contact, root in roots.items():
        groups[root].append(contact)
    return {root: [root, *merged] for root, merged in groups.items()}


def notices(scope: Scope) -> list[Table]:
    roots = sources.contact_roots()
    merged = _members(roots)
    totals: dict[int, dict[str, int]] = defaultdict(
        lambda: {"notices": 0, "escalations": 0, "urls": 0}
    )
    for row in sources.notices_per_contact(scope):
        root = roots.get(row["contact_id"], row["contact_id"])
        for key in ("notices", "escalations", "urls"):
            totals[root][key] += row[key]
    for root in set(totals) & set(merged):
        # A URL noticed under two merged contacts counts once.
        totals[root]["urls"] = sources.urls_noticed(scope, merged[root])
    names = sources.contacts(totals)
    rows: list[dict[str, Any]] = []
    for pk, counts in totals.items():
        contact = names.get(pk)
        rows.append(
            {
                "hoster": contact.name if contact else _("contact %(pk)s") % {"pk": pk},
                "country": contact.country if contact else "",
                **counts,
            }
        )
    rows.sort(key=lambda r: (-r["notices"], -r["urls"], r["hoster"]))
    chart = bar_chart(
        _("Notices sent per hoster (most first)"), [(r["hoster"], r["notices"]) for r in rows[:15]]
    )
    return [
        Table(
            "notices_per_hoster",
            _("Notices sent per hoster"),
            [
                Column("hoster", _("Hoster")),
                Column("country", _("Country")),
                Column("notices", _("Notices"), COUNT),
                Column("escalations", _("Escalations"), COUNT),
                Column("urls", "URLs named", COUNT),
            ],
            rows,
            chart=chart,
            shown=SHOWN,
            note=_("Notices sent in the period; the country filter is the hoster's country."),
        )
    ]


def slowest(scope: Scope) -> list[Table]:
    """Median time from the first notice to the removal, per hoster, slowest first.

    1. Contacts that were merged are set aside: a merge moves cases with a
       bulk update, so their facts may still name the old contact.
    2. The database gives the median of every other contact with enough cases.
    3. Each merged group's durations are fetched together and its median
       computed from them.
    """
    minimum = settings.OPENHOTLINE_STATS_HOSTER_MIN_CASES
    roots = sources.contact_roots()
    merged = _members(roots)
    set_aside = sorted(set(roots) | set(merged))
    medians = contact_medians(scope, min_count=minimum, exclude=set_aside)
    for root, group in merged.items():
        values = sorted_durations(scope, "removal_after_notice_s", contact_ids=group)
        if len(values) >= minimum:
            medians[root] = (len(values), percentile_cont(values, 0.5) or 0.0)
    names = sources.contacts(medians)
    rows: list[dict[str, Any]] = []
    for pk, (n, median) in medians.items():
        contact = names.get(pk)
        rows.append(
            {
                "hoster": contact.name if contact else _("contact %(pk)s") % {"pk": pk},
                "country": contact.country if contact else "",
                "removed": n,
                "median": median,
            }
        )
    rows.sort(key=lambda r: (-r["median"], r["hoster"]))
    chart = bar_chart(
        _("Median hours from the first notice to removal (slowest hosters)"),
        [(r["hoster"], round(r["median"] / 3600, 1)) for r in rows[:15]],
        unit=" h",
    )
    return [
        Table(
            "slowest_hosters",
            _("Slowest hosters: median time from the first notice to removal"),
            [
                Column("hoster", _("Hoster")),
                Column("country", _("Country")),
                Column("removed", _("URLs removed"), COUNT),
                Column("median", _("Median"), DURATION),
            ],
            rows,
            chart=chart,
            shown=SLOWEST_SHOWN,
            note=_(
                "Hosters with at least %(minimum)s removals after a notice, for URLs first "
                "reported in the period."
            )
            % {"minimum": minimum},
        )
    ]


BUILDERS = (
    (("notices_per_hoster",), notices),
    (("slowest_hosters",), slowest),
)
