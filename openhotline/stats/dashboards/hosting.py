"""Where the illegal material was hosted, and how much of it where no member hotline works."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _
from django_countries import countries

from openhotline.stats import sources
from openhotline.stats.charts import bar_chart
from openhotline.stats.models import UrlFact
from openhotline.stats.scope import Scope
from openhotline.stats.tables import COUNT, SHARE, Column, Table

CHART_BARS = 15


def country_name(code: str) -> str:
    return str(dict(countries).get(code, code)) if code else _("Unknown")


def illegal_by_country(scope: Scope) -> dict[str, int]:
    """Reported URLs assessed illegal, per hosting country ("" for unknown)."""
    return dict(
        UrlFact.objects.filter(scope.q(), illegal=True)
        .values_list("country")
        .annotate(n=Count("*"))
        .order_by()
    )


def hosting(scope: Scope) -> list[Table]:
    counts = illegal_by_country(scope)
    members = sources.member_countries()
    total = sum(counts.values())
    known = total - counts.get("", 0)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rows: list[dict[str, Any]] = [
        {
            "code": code or "",
            "country": country_name(code),
            "urls": n,
            "share": n / total if total else None,
            "member": (_("yes") if code in members else _("no")) if code else "",
        }
        for code, n in ordered
    ]
    without = sum(n for code, n in counts.items() if code and code not in members)
    with_member = known - without
    summary = [
        {
            "what": _("Hosted where a member hotline works"),
            "urls": with_member,
            "share": with_member / known if known else None,
        },
        {
            "what": _("Hosted where no member hotline exists"),
            "urls": without,
            "share": without / known if known else None,
        },
        {"what": _("Hosting country not known"), "urls": counts.get("", 0), "share": None},
        {"what": _("All illegal URLs"), "urls": total, "share": None},
    ]
    no_member = {country_name(code) for code, _ in ordered if code and code not in members}
    chart = bar_chart(
        _("Illegal URLs by hosting country (grey: no member hotline)"),
        [(country_name(code), n) for code, n in ordered[:CHART_BARS]],
        highlight=no_member,
    )
    return [
        Table(
            "hosting_summary",
            _("Illegal URLs: hosted where a member hotline works, or not"),
            [
                Column("what", _("Hosting")),
                Column("urls", _("Illegal URLs"), COUNT),
                Column("share", _("Share of known countries"), SHARE),
            ],
            summary,
        ),
        Table(
            "hosting_countries",
            _("Illegal URLs by hosting country"),
            [
                Column("code", _("Code")),
                Column("country", _("Country")),
                Column("urls", _("Illegal URLs"), COUNT),
                Column("share", _("Share"), SHARE),
                Column("member", _("Member hotline")),
            ],
            rows,
            chart=chart,
        ),
    ]


BUILDERS = ((("hosting_summary", "hosting_countries"), hosting),)
