"""Who may see what of federation: hotline admins, and each only their hotline's deliveries."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import ADMIN_ROLES, Organisation, User
from openhotline.federation.models import OutboxMessage


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
