"""The network section of a reported URL's page: route, referrals, forwards, who else has it.

Of another hotline's work, only what it must share is shown: for a URL we
forwarded, the state of the receiver's URL, its verdict and its removal;
for one forwarded to us, the sender's classifications; for the same URL or
media elsewhere, the other hotline's name.
"""

from __future__ import annotations

from typing import Any

from openhotline.accounts.access import has_role
from openhotline.accounts.models import ANALYST_ROLES, User
from openhotline.assessment.models import UrlAssessment
from openhotline.assessment.vocabulary import Verdict
from openhotline.network.actions.forwarding import sender_statuses
from openhotline.network.actions.routing import ROUTABLE_STATES
from openhotline.network.models import Forward, MediaOverlap, PoliceReferral, Route
from openhotline.reports.models import DeconflictionLink, ReportedUrl
from openhotline.takedown.models import TakedownCase


def _progress(forward: Forward) -> dict[str, Any]:
    """What the sender may know of the receiver's URL."""
    receiver = forward.receiver_url
    if receiver is None:
        return {"forward": forward}
    assessment = UrlAssessment.objects.filter(reported_url=receiver).first()
    return {
        "forward": forward,
        "state": receiver.get_state_display(),
        "verdict": Verdict(assessment.verdict).label if assessment is not None else "",
        "assessed_at": receiver.assessed_at,
        "removed_at": receiver.removed_at,
    }


def panel_context(user: User, url: ReportedUrl) -> dict[str, Any]:
    forwards_out = list(
        Forward.objects.filter(sender_url=url).select_related("member", "receiver_url")
    )
    forwards_in = list(
        Forward.objects.filter(receiver_url=url).select_related("sender_url__hotline")
    )
    partners = {f.receiver_url_id for f in forwards_out} | {f.sender_url_id for f in forwards_in}
    same_url = sorted(
        set(
            DeconflictionLink.objects.filter(reported_url=url)
            .exclude(other_url__in=partners)
            .values_list("other_url__hotline__name", flat=True)
        )
    )
    same_media = list(
        MediaOverlap.objects.filter(reported_url=url)
        .exclude(other_url__in=partners)
        .values_list("other_url__hotline__name", "media_count")
        .order_by("other_url__hotline__name")
    )
    received = [
        {
            "forward": forward,
            "statuses": [
                {
                    "media": status.media_item,
                    "verdict": Verdict(status.current.verdict).label,
                    "age_group": status.current.get_age_group_display(),
                    "virtual": status.current.is_virtual,
                }
                for status in sender_statuses(forward.sender_url)
            ],
        }
        for forward in forwards_in
    ]
    may_write = has_role(user, url.hotline_id, ANALYST_ROLES)
    assessment = UrlAssessment.objects.filter(reported_url=url).first()
    # An illegal verdict still waiting for four-eyes confirmation is not routed (``do_route``).
    waiting = assessment is not None and assessment.is_illegal() and not assessment.is_in_force()
    return {
        "reported_url": url,
        "route": Route.objects.filter(reported_url=url).select_related("member").first(),
        "referrals": list(PoliceReferral.objects.filter(reported_url=url)),
        "forwards_out": [_progress(f) for f in forwards_out],
        "forwards_in": received,
        "same_url": same_url,
        "same_media": same_media,
        "case": TakedownCase.objects.filter(reported_url=url).select_related("contact").first(),
        "can_route": (
            may_write
            and url.state in ROUTABLE_STATES
            and assessment is not None
            and assessment.is_illegal()
            and assessment.is_in_force()
        ),
        "routing_waits_for_confirmation": waiting and url.state in ROUTABLE_STATES,
    }
