"""Who may see what of federation: hotline admins, and each only their hotline's deliveries."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import ADMIN_ROLES, Organisation, User
from openhotline.federation.models import IncomingForward, OutboxMessage, Peer, PeerState
from openhotline.reports.access import get_reported_url_for_user


def admin_hotlines(user: User) -> QuerySet[Organisation]:
    """The hotlines ``user`` administers; none means no federation page (404)."""
    hotlines = hotlines_for_user(user, roles=ADMIN_ROLES)
    if not hotlines.exists():
        raise Http404("Not found")
    return hotlines


def get_message_for_user(user: User, message_id: str) -> OutboxMessage:
    """One of the outbox messages of a hotline ``user`` administers, or 404."""
    message = (
        OutboxMessage.objects.filter(message_id=message_id, hotline__in=admin_hotlines(user))
        .select_related("peer", "hotline")
        .first()
    )
    if message is None:
        raise Http404("No such delivery")
    return message


def get_incoming_for_user(user: User, url_code: str) -> IncomingForward:
    """The forward a peer made of one of ``user``'s URLs, to work on (analysts), or 404."""
    url = get_reported_url_for_user(user, url_code, write=True)
    incoming = IncomingForward.objects.filter(reported_url=url).select_related("peer").first()
    if incoming is None:
        raise Http404("Not forwarded by a peer")
    return incoming


def get_admin_hotline_and_peer(user: User, slug: str, peer_code: str) -> tuple[Organisation, Peer]:
    """A hotline ``user`` administers and a peer that is not removed, or 404."""
    hotline = admin_hotlines(user).filter(slug=slug).first()
    peer = Peer.objects.exclude(state=PeerState.REMOVED).filter(code=peer_code).first()
    if hotline is None or peer is None:
        raise Http404("Not found")
    return hotline, peer
