"""Routing an illegal reported URL by its hosting country.

| hosting                                   | route                                       |
|-------------------------------------------|---------------------------------------------|
| our own country                           | police referral, then a notice to the       |
|                                           | hoster once the police-first hold is over   |
| a country whose member hotline is here    | forward: the member gets its own reported   |
|                                           | URL, with the evidence                      |
| a country whose member hotline is outside | forward: to a peered installation (the      |
|                                           | federation app), else a package by e-mail   |
| a country without a member hotline        | INTERPOL referral (counted in statistics),  |
|                                           | re-checked until removed                    |
| behind a CDN                              | notice to the CDN; every re-check traces    |
|                                           | again and routes anew once the origin shows |
| unknown                                   | re-checked and traced again                 |
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import UrlAssessment
from openhotline.audit.log import record
from openhotline.crawler.hosting_facts import HostingFacts, latest_facts
from openhotline.lib.english import in_english
from openhotline.network.models import (
    MemberHotline,
    PoliceReferral,
    ReferralChannel,
    Route,
    RouteKind,
)
from openhotline.network.signals import peer_takes
from openhotline.reports.actions import add_timeline
from openhotline.reports.models import ReportedUrl, UrlState
from openhotline.takedown.actions.cases import do_open_case

logger = logging.getLogger(__name__)

# URL states in which a route may be decided (NOTICE_SENT: a CDN route decided anew).
ROUTABLE_STATES = (UrlState.ILLEGAL, UrlState.NOTICE_SENT)


def member_for(country: str) -> MemberHotline | None:
    if not country:
        return None
    return (
        MemberHotline.objects.filter(country=country.upper(), active=True)
        .select_related("organisation")
        .first()
    )


def police_first_hours(hotline: Organisation) -> float:
    """The hold on notices after a police referral, from the hotline's directory entry."""
    entry = MemberHotline.objects.filter(organisation=hotline).first() or member_for(
        str(hotline.country)
    )
    if entry is not None:
        return entry.police_first_hours
    return float(settings.OPENHOTLINE_POLICE_FIRST_HOURS)


def decide(hotline: Organisation, facts: HostingFacts | None) -> tuple[str, MemberHotline | None]:
    """The route for a URL of ``hotline`` hosted as ``facts`` say (no database writes)."""
    if facts is None or not facts.is_located():
        return RouteKind.UNKNOWN, None
    if facts.cdn:
        return RouteKind.CDN, None
    if facts.country == str(hotline.country):
        return RouteKind.NATIONAL, None
    member = member_for(facts.country)
    if member is None or member.organisation_id == hotline.pk:
        return RouteKind.NO_MEMBER, None
    if member.organisation_id is not None:
        return RouteKind.FORWARD_TENANT, member
    if member.contact_email or peer_takes(member.country):
        return RouteKind.FORWARD_EXTERNAL, member
    return RouteKind.NO_MEMBER, None


def _referral(url: ReportedUrl, channel: str, country: str) -> PoliceReferral:
    referral, created = PoliceReferral.objects.get_or_create(
        reported_url=url,
        channel=channel,
        defaults={"hotline": url.hotline, "country": country},
    )
    if created:
        to = "INTERPOL" if channel == ReferralChannel.INTERPOL else f"the police ({country})"
        add_timeline(
            f"Referred to {to}",
            kind="network.referred",
            reported_url=url,
            detail={"referral": referral.code, "channel": channel, "country": country},
        )
        record(
            "network.police_referral",
            organisation=url.hotline,
            obj=referral,
            detail={"url": url.code, "channel": channel, "country": country},
        )
    return referral


def do_route(
    reported_url: ReportedUrl,
    *,
    facts: HostingFacts | None = None,
    actor: User | None = None,
    again: bool = False,
) -> Route | None:
    """Decide and carry out the route of an illegal URL; safe to call twice.

    1. Only a URL whose illegal verdict is in force (confirmed where the
       hotline's four-eyes rule asks) and still with its hotline is routed.
    2. A decided route stands, unless it was provisional (CDN, unknown
       hosting) and the trace now says more, or an analyst asks ``again``.
    3. Record the route, then act on it: referral, takedown case, forward.
    """
    from openhotline.network.actions.forwarding import do_forward_external, do_forward_to_tenant

    url = ReportedUrl.objects.select_related("hotline").get(pk=reported_url.pk)
    assessment = UrlAssessment.objects.filter(reported_url=url).first()
    if (
        url.state not in ROUTABLE_STATES
        or assessment is None
        or not assessment.is_in_force()
        or not assessment.is_illegal()
    ):
        return None
    facts = facts or latest_facts(url)
    kind, member = decide(url.hotline, facts)
    current = Route.objects.filter(reported_url=url).first()
    if current is not None and not again:
        unchanged = current.kind == kind and current.country == (facts.country if facts else "")
        if not current.is_provisional() or unchanged:
            return current
    country = facts.country if facts is not None else ""
    with transaction.atomic():
        route, _ = Route.objects.update_or_create(
            reported_url=url,
            defaults={
                "kind": kind,
                "country": country,
                "cdn": facts.cdn[:100] if facts is not None else "",
                "member": member,
                "notice_not_before": None,
                "decided_at": timezone.now(),
            },
        )
        label = in_english(RouteKind(kind).label)
        add_timeline(
            f"Route: {label}" + (f" ({member.name})" if member is not None else ""),
            kind="network.routed",
            reported_url=url,
            actor=actor,
            detail={"route": kind, "country": country},
        )
        record(
            "network.routed",
            actor=actor,
            organisation=url.hotline,
            obj=url,
            detail={"route": kind, "country": country, "member": member.code if member else ""},
        )
        if kind == RouteKind.NATIONAL:
            referral = _referral(url, ReferralChannel.NATIONAL, country)
            hours = police_first_hours(url.hotline)
            if hours:
                route.notice_not_before = referral.created_at + timedelta(hours=hours)
                route.save(update_fields=["notice_not_before", "updated_at"])
            do_open_case(url, notify=True, not_before=route.notice_not_before, facts=facts)
        elif kind == RouteKind.CDN:
            do_open_case(url, notify=True, facts=facts, reason=f"behind {facts and facts.cdn}")
        elif kind == RouteKind.UNKNOWN:
            do_open_case(url, notify=False, reason="hosting unknown; traced again")
        elif kind == RouteKind.NO_MEMBER:
            _referral(url, ReferralChannel.INTERPOL, country)
            do_open_case(url, notify=False, reason=f"no member hotline in {country}")
        elif member is None:  # decide() names a member with every forwarding route
            raise ValueError(f"route {kind} of {url.code} has no member hotline")
        elif kind == RouteKind.FORWARD_TENANT:
            do_forward_to_tenant(url, member, actor=actor)
        else:
            do_forward_external(url, member, actor=actor)
    return route


def route_quietly(reported_url: ReportedUrl, **kwargs: object) -> Route | None:
    """``do_route`` for signal receivers: a failure is logged, and the sweep tries again."""
    try:
        return do_route(reported_url, **kwargs)  # type: ignore[arg-type]
    except Exception:
        logger.exception("routing reported URL %s failed", reported_url.pk)
        return None
