"""The staff page of federation: the peers, and the deliveries pending or failing."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.federation.access import (
    admin_hotlines,
    get_admin_hotline_and_peer,
    get_incoming_for_user,
    get_message_for_user,
)
from openhotline.federation.actions.media import do_request_media, do_set_media_sharing
from openhotline.federation.actions.outbox import do_give_up_message, do_retry_message
from openhotline.federation.identity import identity
from openhotline.federation.models import UNDELIVERED, MediaSharing, OutboxMessage, Peer


@staff_required
def peers(request: HttpRequest) -> HttpResponse:
    """Every peer of the installation, and the undelivered messages of the user's hotlines."""
    hotlines = admin_hotlines(request_user(request))
    waiting = (
        OutboxMessage.objects.filter(hotline__in=hotlines, state__in=UNDELIVERED)
        .select_related("peer", "hotline")
        .order_by("pk")[:500]
    )
    allowed = set(
        MediaSharing.objects.filter(hotline__in=hotlines).values_list("hotline_id", "peer_id")
    )
    rows = [
        {
            "peer": peer,
            "media": [
                {"hotline": hotline, "allowed": (hotline.pk, peer.pk) in allowed}
                for hotline in hotlines
            ],
        }
        for peer in Peer.objects.all()
    ]
    return render(
        request,
        "federation/peers.html",
        {"rows": rows, "waiting": waiting, "me": identity()},
    )


def _media_policy(request: HttpRequest, peer_code: str, allowed: bool) -> HttpResponse:
    user = request_user(request)
    hotline, peer = get_admin_hotline_and_peer(user, request.POST.get("hotline", ""), peer_code)
    do_set_media_sharing(hotline, peer, allowed, actor=user)
    if allowed:
        messages.success(request, _("%(peer)s may now ask for media.") % {"peer": peer.name})
    else:
        messages.success(request, _("No more media go to %(peer)s.") % {"peer": peer.name})
    return redirect("federation:peers")


@require_POST
@staff_required
def allow_media(request: HttpRequest, peer_code: str) -> HttpResponse:
    """A hotline admin lets the peer have, on request, the media of the URLs forwarded to it."""
    return _media_policy(request, peer_code, True)


@require_POST
@staff_required
def stop_media(request: HttpRequest, peer_code: str) -> HttpResponse:
    return _media_policy(request, peer_code, False)


@require_POST
@staff_required
def request_media(request: HttpRequest, code: str) -> HttpResponse:
    """An analyst asks the installation that forwarded this URL for its media."""
    user = request_user(request)
    incoming = get_incoming_for_user(user, code)
    do_request_media(incoming, actor=user)
    messages.success(request, _("The sender was asked for the media."))
    return redirect("reports:url", code)


@require_POST
@staff_required
def retry(request: HttpRequest, message_id: str) -> HttpResponse:
    user = request_user(request)
    message = get_message_for_user(user, message_id)
    do_retry_message(message, actor=user)
    messages.success(request, _("The delivery is tried again now."))
    return redirect("federation:peers")


@require_POST
@staff_required
def give_up(request: HttpRequest, message_id: str) -> HttpResponse:
    user = request_user(request)
    message = get_message_for_user(user, message_id)
    do_give_up_message(message, actor=user)
    messages.success(request, _("The delivery was given up."))
    return redirect("federation:peers")
