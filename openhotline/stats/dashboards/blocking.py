"""The blocklist's size over time, and how fresh each provider's copy of it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.blocking.models import FeedFetch, Publication
from openhotline.stats.charts import step_chart
from openhotline.stats.scope import Scope
from openhotline.stats.tables import COUNT, TIME, Column, Table

SHOWN = 50
# A provider that has not fetched for this long is reported as stale.
STALE_HOURS = 24


def _hotlines(scope: Scope) -> list[Organisation]:
    hotlines = Organisation.objects.filter(kind=OrgKind.HOTLINE).order_by("name")
    if scope.hotline_ids is not None:
        hotlines = hotlines.filter(pk__in=scope.hotline_ids)
    return list(hotlines)


def size_over_time(scope: Scope) -> list[Table]:
    """Entries in each published version; the chart sums the hotlines' lists."""
    hotlines = {h.pk: h for h in _hotlines(scope)}
    publications = Publication.objects.filter(hotline_id__in=hotlines)
    latest: dict[int, int] = {}
    if scope.start is not None:
        # Where each list stood when the period began.
        for row in (
            publications.filter(created_at__lt=scope.start)
            .values("hotline_id")
            .annotate(serial=Max("serial"))
        ):
            latest[row["hotline_id"]] = (
                publications.filter(hotline_id=row["hotline_id"], serial=row["serial"])
                .values_list("entry_count", flat=True)
                .get()
            )
        publications = publications.filter(created_at__gte=scope.start)
    if scope.end is not None:
        publications = publications.filter(created_at__lt=scope.end)
    versions = list(
        publications.order_by("created_at", "pk").values(
            "hotline_id", "serial", "created_at", "entry_count", "added_count", "removed_count"
        )
    )
    points: list[tuple[datetime, float]] = []
    if latest and scope.start is not None:
        points.append((scope.start, float(sum(latest.values()))))
    for v in versions:
        latest[v["hotline_id"]] = v["entry_count"]
        points.append((v["created_at"], float(sum(latest.values()))))
    rows = [
        {
            "published": v["created_at"],
            "hotline": hotlines[v["hotline_id"]].name,
            "version": v["serial"],
            "entries": v["entry_count"],
            "added": v["added_count"],
            "removed": v["removed_count"],
        }
        for v in reversed(versions)
    ]
    return [
        Table(
            "blocklist_size",
            _("Blocklist versions published"),
            [
                Column("published", _("Published"), TIME),
                Column("hotline", _("Hotline")),
                Column("version", _("Version"), COUNT),
                Column("entries", _("Entries"), COUNT),
                Column("added", _("Added"), COUNT),
                Column("removed", _("Removed"), COUNT),
            ],
            rows,
            chart=step_chart(_("Entries on the blocklist over time"), points),
            shown=SHOWN,
        )
    ]


def feed_freshness(scope: Scope) -> list[Table]:
    """Per provider of each hotline's country: its last fetch and the version it holds."""
    now = timezone.now()
    hotlines = _hotlines(scope)
    current = dict(
        Publication.objects.filter(hotline__in=hotlines)
        .values_list("hotline_id")
        .annotate(top=Max("serial"))
        .order_by()
    )
    rows: list[dict[str, Any]] = []
    for hotline in hotlines:
        fetches = FeedFetch.objects.filter(isp=OuterRef("pk"), hotline=hotline).order_by(
            "-created_at"
        )
        served = fetches.filter(status__in=(200, 304))
        isps = Organisation.objects.filter(kind=OrgKind.ISP, country=hotline.country)
        if scope.country:
            isps = isps.filter(country=scope.country)
        for isp in isps.order_by("name").annotate(
            last_at=Subquery(fetches.values("created_at")[:1]),
            last_status=Subquery(fetches.values("status")[:1]),
            ok_at=Subquery(served.values("created_at")[:1]),
            ok_serial=Subquery(served.values("serial")[:1]),
        ):
            top = current.get(hotline.pk)
            behind = top - isp.ok_serial if top is not None and isp.ok_serial is not None else None
            age = (now - isp.ok_at).total_seconds() / 3600 if isp.ok_at else None
            if isp.ok_at is None:
                state = _("never fetched")
            elif behind:
                state = ngettext("%(n)s version behind", "%(n)s versions behind", behind) % {
                    "n": behind
                }
            elif age is not None and age > STALE_HOURS:
                state = _("up to date, but no fetch for a day")
            else:
                state = _("up to date")
            rows.append(
                {
                    "isp": isp.name,
                    "hotline": hotline.name,
                    "last_at": isp.last_at,
                    "last_status": isp.last_status,
                    "ok_at": isp.ok_at,
                    "ok_serial": isp.ok_serial,
                    "current": top,
                    "behind": behind,
                    "hours": round(age, 1) if age is not None else None,
                    "state": state,
                }
            )
    return [
        Table(
            "feed_freshness",
            _("Provider feed freshness"),
            [
                Column("isp", _("Provider")),
                Column("hotline", _("Hotline's list")),
                Column("last_at", _("Last request"), TIME),
                Column("last_status", _("Status")),
                Column("ok_at", _("Last successful fetch"), TIME),
                Column("ok_serial", _("Version held"), COUNT),
                Column("current", _("Current version"), COUNT),
                Column("behind", _("Versions behind"), COUNT),
                Column("hours", _("Hours since"), COUNT),
                Column("state", _("State")),
            ],
            rows,
            note=_(
                "Providers of each hotline's country; the period filter does not apply, the "
                "country filter is the provider's country."
            ),
        )
    ]


BUILDERS = (
    (("blocklist_size",), size_over_time),
    (("feed_freshness",), feed_freshness),
)
