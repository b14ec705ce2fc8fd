"""One item as the police see it: classification codes, every hash, where and when it was seen.

The thumbnail is blurred and greyscale like everywhere; greyscale and colour
are revealed step by step with the portal's reveal endpoint
(``lea_media_views``), each step audited and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.assessment.vocabulary import (
    ICCAM_AGE_GROUP,
    ICCAM_GENDER,
    ICCAM_VERDICT,
    vics_category,
)
from openhotline.crawler.hosting_facts import HostingFacts, latest_facts
from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.network.lea_access import LeaSeat, get_media, items_for, seat_for_user
from openhotline.network.models import LeaItem, ReferralChannel


@dataclass(frozen=True)
class Sighting:
    link: UrlMedia
    facts: HostingFacts | None


def sightings(seat: LeaSeat, item: MediaItem, rows: list[LeaItem]) -> list[UrlMedia]:
    """Where the item was found, on URLs the seat may know about."""
    links = UrlMedia.objects.filter(
        media_item=item, reported_url__hotline_id__in={r.hotline_id for r in rows}
    )
    if not seat.interpol:
        links = links.filter(
            reported_url__police_referrals__channel=ReferralChannel.NATIONAL,
            reported_url__police_referrals__country=seat.country,
        )
    return list(links.select_related("reported_url").distinct().order_by("created_at", "pk"))


@staff_required
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    seat = seat_for_user(user)
    item = get_media(seat, code)
    rows = list(
        items_for(seat)
        .filter(media_item=item)
        .select_related("classification", "hotline")
        .order_by("first_in_force_at", "pk")
    )
    classifications = [
        {
            "row": row,
            "c": row.classification,
            "iccam_verdict": ICCAM_VERDICT.get(row.classification.verdict),  # type: ignore[call-overload]
            "iccam_age": ICCAM_AGE_GROUP.get(row.classification.age_group),  # type: ignore[call-overload]
            "iccam_gender": ICCAM_GENDER.get(row.classification.gender),  # type: ignore[call-overload]
            "vics": vics_category(row.verdict, virtual=row.is_virtual),
        }
        for row in rows
    ]
    links = sightings(seat, item, rows)
    seen: list[datetime] = [link.created_at for link in links]
    facts_by_url = {link.reported_url_id: latest_facts(link.reported_url) for link in links}
    return render(
        request,
        "network/lea_item.html",
        {
            "seat": seat,
            "item": item,
            "classifications": classifications,
            "sightings": [Sighting(link, facts_by_url[link.reported_url_id]) for link in links],
            "first_seen": min(seen) if seen else item.created_at,
            "last_seen": max(seen) if seen else item.created_at,
            "vpdq_frames": len(item.vpdq or []),
        },
    )
