"""The staff page of federation: the peers, and the deliveries pending or failing."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.federation.access import admin_hotlines, get_message_for_user
from openhotline.federation.actions.outbox import do_give_up_message, do_retry_message
from openhotline.federation.identity import identity
from openhotline.federation.models import UNDELIVERED, OutboxMessage, Peer


@staff_required
def peers(request: HttpRequest) -> HttpResponse:
    """Every peer of the installation, and the undelivered messages of the user's hotlines."""
    hotlines = admin_hotlines(request_user(request))
    waiting = (
        OutboxMessage.objects.filter(hotline__in=hotlines, state__in=UNDELIVERED)
        .select_related("peer", "hotline")
        .order_by("pk")[:500]
    )
    return render(
        request,
        "federation/peers.html",
        {"peers": Peer.objects.all(), "waiting": waiting, "me": identity()},
    )


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
