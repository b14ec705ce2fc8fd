"""Everything the statistics read from the network and takedown apps, in one place.

Those apps are younger than the rest; when their models change, this module
is the only one to follow. What is used:

- ``network.PoliceReferral``: ``reported_url``, ``created_at`` (the first
  referral of a URL is its time to police referral), ``hotline``,
  ``country``, ``acknowledged_at`` (the police's acknowledgement).
- ``network.MemberHotline``: ``country``, ``active`` (a country has a member
  hotline; hotlines of this installation count as members too).
- ``takedown.TakedownCase``: ``reported_url`` (one-to-one, ``related_name
  "takedown"``), ``first_notice_at``, ``contact``.
- ``takedown.Notice``: ``hotline``, ``contact``, ``kind``, ``state``,
  ``sent_at``; ``takedown.NoticeLine``: ``notice``, ``case``.
- ``takedown.AbuseContact``: ``name``, ``country``, ``merged_into``.

The receivers that keep the facts in step with these rows are in
``receivers.py``, with the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median
from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.network.models import MemberHotline, PoliceReferral
from openhotline.stats.scope import Scope
from openhotline.stats.timefuncs import EpochSeconds, seconds_between
from openhotline.takedown.models import AbuseContact, Notice, NoticeKind, NoticeState


def url_annotations() -> dict[str, Any]:
    """The fact columns taken from these apps, as expressions over ``ReportedUrl``."""
    first_referral = Subquery(
        PoliceReferral.objects.filter(reported_url=OuterRef("pk"))
        .order_by("created_at")
        .values("created_at")[:1]
    )
    return {
        "f_referral_s": EpochSeconds(first_referral) - EpochSeconds("created_at"),
        "f_notice_s": seconds_between("takedown__first_notice_at", "created_at"),
        "f_removal_after_notice_s": seconds_between("removed_at", "takedown__first_notice_at"),
        "f_contact_pk": F("takedown__contact_id"),
    }


def member_countries() -> set[str]:
    """Countries with a member hotline: the directory's active entries and our tenants."""
    countries = set(MemberHotline.objects.filter(active=True).values_list("country", flat=True))
    countries |= {
        str(code)
        for code in Organisation.objects.filter(kind=OrgKind.HOTLINE).values_list(
            "country", flat=True
        )
    }
    return {c.upper() for c in countries if c}


@dataclass(frozen=True)
class Contact:
    pk: int
    name: str
    country: str


def contacts(ids: Iterable[int]) -> dict[int, Contact]:
    return {
        row["pk"]: Contact(row["pk"], row["name"], row["country"])
        for row in AbuseContact.objects.filter(pk__in=set(ids)).values("pk", "name", "country")
    }


def contact_roots() -> dict[int, int]:
    """Merged contacts and the contact each now resolves to (chains followed).

    A merge moves the cases with a bulk update that no receiver sees, so a
    fact may still name the old contact until the nightly rebuild; callers
    count such facts under the contact the old one was merged into.
    """
    parent = dict(
        AbuseContact.objects.filter(merged_into__isnull=False).values_list("pk", "merged_into_id")
    )
    roots: dict[int, int] = {}
    for start in parent:
        node, seen = start, {start}
        while node in parent and parent[node] not in seen:
            node = parent[node]
            seen.add(node)
        roots[start] = node
    return roots


def notices_per_contact(scope: Scope) -> list[dict[str, Any]]:
    """Notices and escalations sent in the period, and the URLs they named, per contact.

    The period is the day the notice was sent; the country filter is the
    contact's country (the hoster's).
    """
    notices = Notice.objects.filter(state=NoticeState.SENT)
    if scope.hotline_ids is not None:
        notices = notices.filter(hotline_id__in=scope.hotline_ids)
    if scope.start is not None:
        notices = notices.filter(sent_at__gte=scope.start)
    if scope.end is not None:
        notices = notices.filter(sent_at__lt=scope.end)
    if scope.country:
        notices = notices.filter(contact__country=scope.country)
    return list(
        notices.values("contact_id")
        .annotate(
            notices=Count("pk", filter=Q(kind=NoticeKind.NOTICE), distinct=True),
            escalations=Count("pk", filter=Q(kind=NoticeKind.ESCALATION), distinct=True),
            urls=Count("lines__case_id", distinct=True),
        )
        .order_by()
    )


def urls_noticed(scope: Scope, contact_ids: list[int]) -> int:
    """Distinct URLs named in notices to any of ``contact_ids`` (merged contacts)."""
    lines = Notice.objects.filter(state=NoticeState.SENT, contact_id__in=contact_ids)
    if scope.hotline_ids is not None:
        lines = lines.filter(hotline_id__in=scope.hotline_ids)
    if scope.start is not None:
        lines = lines.filter(sent_at__gte=scope.start)
    if scope.end is not None:
        lines = lines.filter(sent_at__lt=scope.end)
    return lines.aggregate(n=Count("lines__case_id", distinct=True))["n"] or 0


@dataclass(frozen=True)
class Acknowledgement:
    """How fast the police acknowledged the referrals made in a period."""

    referrals: int
    acknowledged: int
    within_24h: int
    median_s: float | None

    @property
    def share_within_24h(self) -> float | None:
        return self.within_24h / self.referrals if self.referrals else None


def police_acknowledgement(scope: Scope) -> Acknowledgement:
    """Referrals made in the period (by ``created_at``), and their acknowledgement times.

    The share within 24 hours is of every referral made, acknowledged or not;
    the median is of those acknowledged.
    """
    rows = PoliceReferral.objects.all()
    if scope.hotline_ids is not None:
        rows = rows.filter(hotline_id__in=scope.hotline_ids)
    if scope.start is not None:
        rows = rows.filter(created_at__gte=scope.start)
    if scope.end is not None:
        rows = rows.filter(created_at__lt=scope.end)
    if scope.country:
        rows = rows.filter(country=scope.country)
    pairs = list(rows.values_list("created_at", "acknowledged_at"))
    waits = [(ack - made).total_seconds() for made, ack in pairs if ack is not None]
    return Acknowledgement(
        referrals=len(pairs),
        acknowledged=len(waits),
        within_24h=sum(1 for w in waits if w <= 24 * 3600),
        median_s=median(waits) if waits else None,
    )
