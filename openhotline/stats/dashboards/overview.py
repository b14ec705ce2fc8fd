"""Counts: reports by source, reported URLs by verdict, media items by their attributes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS, AgeGroup, Gender, Verdict
from openhotline.evidence.models import UrlMedia
from openhotline.reports.models import ReportLink, ReportSource
from openhotline.stats.charts import bar_chart
from openhotline.stats.models import ItemFact, ReportFact, UrlFact
from openhotline.stats.scope import Scope
from openhotline.stats.tables import COUNT, SHARE, Column, Table

FLAGS = (
    ("is_virtual", gettext_lazy("Virtual / computer- or AI-generated")),
    ("is_self_generated", gettext_lazy("Self-generated")),
    ("is_child_modelling", gettext_lazy("Child modelling / posing")),
    ("is_commercial", gettext_lazy("Commercial")),
)
SHARE_OF = Column("share", gettext_lazy("Share"), SHARE)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def reports_by_source(scope: Scope) -> list[Table]:
    """Reports received in the period, by how they came in.

    With a country, a report counts when any URL it names is hosted there.
    """
    facts = ReportFact.objects.filter(scope.q("created_at", country=False))
    if scope.country:
        facts = facts.filter(
            Exists(
                ReportLink.objects.filter(
                    report_id=OuterRef("report_id"),
                    reported_url__hosting_country=scope.country,
                )
            )
        )
    counts = dict(facts.values_list("source").annotate(n=Count("*")).order_by())
    total = sum(counts.values())
    rows = [
        {
            "source": str(label),
            "reports": counts.get(value, 0),
            "share": _share(counts.get(value, 0), total),
        }
        for value, label in ReportSource.choices
    ]
    rows.append({"source": _("All reports"), "reports": total, "share": _share(total, total)})
    chart = bar_chart(_("Reports by source"), [(r["source"], r["reports"]) for r in rows[:-1]])
    return [
        Table(
            "reports_by_source",
            _("Reports received, by source"),
            [Column("source", _("Source")), Column("reports", _("Reports"), COUNT), SHARE_OF],
            rows,
            chart=chart,
        )
    ]


def urls_by_verdict(scope: Scope) -> list[Table]:
    """Reported URLs (first reported in the period) and how they were assessed."""
    counts = Counter(
        dict(
            UrlFact.objects.filter(scope.q())
            .values_list("verdict")
            .annotate(n=Count("*"))
            .order_by()
        )
    )
    total = sum(counts.values())
    assessed = sum(counts[v] for v in (Verdict.BASELINE, Verdict.NATIONAL, Verdict.NOT_ILLEGAL))
    illegal = sum(counts[v] for v in ILLEGAL_VERDICTS)
    rows: list[dict[str, Any]] = [
        {"what": _("Reported URLs"), "urls": total, "share": None},
        {"what": _("Not assessed yet"), "urls": counts[""], "share": None},
        {"what": _("Assessed"), "urls": assessed, "share": _share(assessed, assessed)},
    ]
    for verdict in (Verdict.BASELINE, Verdict.NATIONAL, Verdict.NOT_ILLEGAL):
        rows.append(
            {
                "what": _("Assessed: %(verdict)s") % {"verdict": verdict.label},
                "urls": counts[verdict],
                "share": _share(counts[verdict], assessed),
            }
        )
    rows.append(
        {
            "what": _("Assessed illegal (baseline or national)"),
            "urls": illegal,
            "share": _share(illegal, assessed),
        }
    )
    return [
        Table(
            "reported_urls",
            _("Reported URLs and the share assessed illegal"),
            [
                Column("what", _("Reported URLs")),
                Column("urls", _("URLs"), COUNT),
                Column("share", _("Share of assessed"), SHARE),
            ],
            rows,
        )
    ]


def _item_rows(scope: Scope) -> list[dict[str, Any]]:
    facts = ItemFact.objects.filter(scope.q("classified_at", country=False), in_force=True)
    if scope.country:
        facts = facts.filter(
            Exists(
                UrlMedia.objects.filter(
                    media_item_id=OuterRef("media_item_id"),
                    reported_url__hotline_id=OuterRef("hotline_id"),
                    reported_url__hosting_country=scope.country,
                )
            )
        )
    # Counting a column of the covering index, not the key, keeps SQLite off the table.
    flags = {name: Count("classified_at", filter=Q(**{name: True})) for name, _label in FLAGS}
    return list(
        facts.values("verdict", "age_group", "gender", "known")
        .annotate(n=Count("*"), **flags)
        .order_by()
    )


def items(scope: Scope) -> list[Table]:
    """Media items by the classification in force: verdict over all items; age group,
    gender, flags and new-versus-known over the illegal ones."""
    groups = _item_rows(scope)
    by_verdict: Counter[str] = Counter()
    by_age: Counter[str] = Counter()
    by_gender: Counter[str] = Counter()
    by_flag: Counter[str] = Counter()
    by_known: Counter[bool] = Counter()
    for g in groups:
        by_verdict[g["verdict"]] += g["n"]
        if g["verdict"] in ILLEGAL_VERDICTS:
            by_age[g["age_group"]] += g["n"]
            by_gender[g["gender"]] += g["n"]
            by_known[bool(g["known"])] += g["n"]
            for name, _label in FLAGS:
                by_flag[name] += g[name]
    total = sum(by_verdict.values())
    illegal = sum(by_verdict[v] for v in ILLEGAL_VERDICTS)

    def table(
        slug: str, title: str, first: str, entries: list[tuple[str, int]], whole: int
    ) -> Table:
        rows = [{"what": label, "items": n, "share": _share(n, whole)} for label, n in entries]
        return Table(
            slug, title, [Column("what", first), Column("items", _("Items"), COUNT), SHARE_OF], rows
        )

    verdicts = table(
        "items_by_verdict",
        _("Media items by verdict"),
        _("Verdict"),
        [(str(label), by_verdict[value]) for value, label in Verdict.choices],
        total,
    )
    verdicts.chart = bar_chart(
        _("Media items by verdict"), [(r["what"], r["items"]) for r in verdicts.rows]
    )
    return [
        verdicts,
        table(
            "items_by_age_group",
            _("Illegal items by age group"),
            _("Age group"),
            [(str(label), by_age[value]) for value, label in AgeGroup.choices],
            illegal,
        ),
        table(
            "items_by_gender",
            _("Illegal items by gender"),
            _("Gender"),
            [(str(label), by_gender[value]) for value, label in Gender.choices],
            illegal,
        ),
        table(
            "items_by_flag",
            _("Illegal items by flag"),
            _("Flag"),
            [(str(label), by_flag[name]) for name, label in FLAGS],
            illegal,
        ),
        table(
            "items_new_known",
            _("Illegal items: new and known material"),
            _("Material"),
            [
                (_("New (no hash-set match)"), by_known[False]),
                (_("Known (hash-set match)"), by_known[True]),
            ],
            illegal,
        ),
    ]


BUILDERS = (
    (("reports_by_source",), reports_by_source),
    (("reported_urls",), urls_by_verdict),
    (
        (
            "items_by_verdict",
            "items_by_age_group",
            "items_by_gender",
            "items_by_flag",
            "items_new_known",
        ),
        items,
    ),
)
