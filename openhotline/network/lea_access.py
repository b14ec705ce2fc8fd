"""Who sees what in the law-enforcement portal and API.

- A police officer (role ``police_officer`` in a law-enforcement
  organisation) sees the national referrals for the organisation's country,
  and the illegal items on those URLs.
- An INTERPOL officer (role ``interpol_officer`` in the INTERPOL
  organisation) sees every item classified baseline or nationally illegal by
  any hotline, and the referrals sent to INTERPOL because no member hotline
  covers the hosting country.
- An agency admin (role ``agency_admin`` in either) sees what the
  organisation's officers see, and also edits its priority rules.

Anyone else, hotline staff included, gets "not found".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.http import Http404

from openhotline.accounts.models import ApiKey, Membership, Organisation, OrgKind, Role, User
from openhotline.evidence.models import MediaItem
from openhotline.network.models import (
    LeaItem,
    Package,
    PoliceReferral,
    ReferralChannel,
    ReferralDecision,
    ReferralState,
)

# The roles that give a seat, by kind of organisation: its officers, and its
# agency admin (an officer who also edits the priority and manages the people).
SEATS = (
    (OrgKind.INTERPOL, {Role.INTERPOL_OFFICER, Role.AGENCY_ADMIN}),
    (OrgKind.LEA, {Role.POLICE_OFFICER, Role.AGENCY_ADMIN}),
)


@dataclass(frozen=True)
class LeaSeat:
    """The organisation a law-enforcement user or key acts for."""

    organisation: Organisation
    interpol: bool

    @property
    def country(self) -> str:
        return str(self.organisation.country)


def seat_for_user(user: User) -> LeaSeat:
    if not user.is_authenticated:
        raise Http404("Not found")
    for kind, roles in SEATS:
        membership = (
            user.memberships.filter(role__in=roles, organisation__kind=kind)
            .select_related("organisation")
            .order_by("pk")
            .first()
        )
        if membership is not None:
            return LeaSeat(membership.organisation, interpol=kind == OrgKind.INTERPOL)
    raise Http404("Not found")


def seat_for_key(key: ApiKey) -> LeaSeat:
    org = key.organisation
    if org.kind not in (OrgKind.LEA, OrgKind.INTERPOL):
        raise Http404("Not found")
    return LeaSeat(org, interpol=org.kind == OrgKind.INTERPOL)


def referrals_for(seat: LeaSeat) -> QuerySet[PoliceReferral]:
    query = PoliceReferral.objects.select_related("reported_url", "hotline")
    if seat.interpol:
        return query.filter(channel=ReferralChannel.INTERPOL)
    return query.filter(channel=ReferralChannel.NATIONAL, country=seat.country)


def open_referrals(seat: LeaSeat, show: str = "all") -> QuerySet[PoliceReferral]:
    """``open``: neither declined by the police nor withdrawn by the hotline; ``all``: every one."""
    rows = referrals_for(seat)
    if show == "open":
        rows = rows.exclude(decision=ReferralDecision.DECLINED).exclude(
            state=ReferralState.WITHDRAWN
        )
    return rows


def items_for(seat: LeaSeat, *, withdrawn: bool = False) -> QuerySet[LeaItem]:
    """Illegal items in force that the seat may see (each hotline's classification a row).

    ``withdrawn`` adds those a hotline no longer holds illegal, for API
    clients that must learn of the change.
    """
    query = LeaItem.objects.all() if withdrawn else LeaItem.objects.filter(in_force=True)
    if seat.interpol:
        return query
    # The item must be on a URL of the same hotline that was referred to this country.
    links = "media_item__url_links__reported_url__"
    return query.filter(
        **{
            f"{links}hotline": F("hotline"),
            f"{links}police_referrals__channel": ReferralChannel.NATIONAL,
            f"{links}police_referrals__country": seat.country,
        }
    ).distinct()


def get_referral(seat: LeaSeat, code: str) -> PoliceReferral:
    try:
        return referrals_for(seat).get(code=code)
    except PoliceReferral.DoesNotExist:
        raise Http404("No such referral") from None


def get_media(seat: LeaSeat, code: str) -> MediaItem:
    """A media item the seat may see: one with an item in force in its view."""
    visible = items_for(seat).filter(media_item__code=code).values("media_item_id")
    item = MediaItem.objects.filter(pk__in=visible).select_related("blob").first()
    if item is None:
        raise Http404("No such media item")
    return item


def get_package(seat: LeaSeat, code: str) -> Package:
    try:
        return Package.objects.get(code=code, organisation=seat.organisation)
    except Package.DoesNotExist:
        raise Http404("No such package") from None


def is_agency_admin(user: User, seat: LeaSeat) -> bool:
    """May edit the organisation's priority rules and flagged series: its agency admin.

    The role is held in the seat's own organisation, so an agency admin of
    another force never edits this one's rules.
    """
    return Membership.objects.filter(
        user=user, organisation=seat.organisation, role=Role.AGENCY_ADMIN
    ).exists()


def require_agency_admin(user: User, seat: LeaSeat) -> None:
    if not is_agency_admin(user, seat):
        raise Http404("Not found")
