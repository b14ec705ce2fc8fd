"""The federation API under ``/federation/v1/``: signed requests from peers only.

Every view verifies the request's signature first (``signing.verify``); a
refusal answers 401, 403 or 429 with a short JSON reason and is written to
the audit log (``do_note_refusal``). No session, no CSRF token: the
signature is the authentication.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from openhotline.federation.actions.deconfliction import answer_question
from openhotline.federation.actions.forwards import MessageRefused
from openhotline.federation.actions.hashsets import published_sets, set_changes
from openhotline.federation.actions.inbox import do_receive_message
from openhotline.federation.actions.peers import do_note_refusal
from openhotline.federation.models import Peer
from openhotline.federation.signing import Message, Refusal, verify
from openhotline.lib.clientaddress import client_address

MAX_BODY = 5 * 1024 * 1024
PeerView = Callable[..., dict[str, Any]]


def _message(request: HttpRequest) -> Message:
    # The signature covers the path and query, not the authority: a proxy in
    # front may change the host name, never the path.
    headers = {k: v for k, v in request.headers.items()}
    return Message(
        method=request.method or "GET",
        url="http://federation.invalid" + request.get_full_path(),
        headers=headers,
    )


def _refuse(request: HttpRequest, status: int, reason: str, peer: Peer | None) -> JsonResponse:
    do_note_refusal(
        reason,
        status,
        peer=peer,
        path=request.path,
        address=client_address(request) or "",
    )
    return JsonResponse({"ok": False, "error": reason}, status=status)


def signed(methods: tuple[str, ...]) -> Callable[[PeerView], Callable[[HttpRequest], HttpResponse]]:
    def wrap(view: PeerView) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def run(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return JsonResponse({"ok": False, "error": "method not allowed"}, status=405)
            length = int(request.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return JsonResponse({"ok": False, "error": "too large"}, status=413)
            body = request.body
            if len(body) > MAX_BODY:
                return JsonResponse({"ok": False, "error": "too large"}, status=413)
            try:
                peer = verify(_message(request), body)
            except Refusal as refusal:
                return _refuse(request, refusal.status, refusal.reason, refusal.peer)
            try:
                answer = view(request, peer, *args, **kwargs)
            except MessageRefused as exc:
                if exc.status == 403:
                    return _refuse(request, 403, str(exc)[:200], peer)
                return JsonResponse({"ok": False, "error": str(exc)[:500]}, status=exc.status)
            return JsonResponse(answer)

        return run

    return wrap


def _json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise MessageRefused("the body is not JSON") from None


@signed(("POST",))
def inbox(request: HttpRequest, peer: Peer) -> dict[str, Any]:
    return do_receive_message(peer, _json(request))


@signed(("POST",))
def deconfliction(request: HttpRequest, peer: Peer) -> dict[str, Any]:
    return {"ok": True, **answer_question(peer, _json(request))}


@signed(("GET",))
def hash_sets(request: HttpRequest, peer: Peer) -> dict[str, Any]:
    return {"ok": True, "sets": published_sets(peer)}


@signed(("GET",))
def hash_set_changes(request: HttpRequest, peer: Peer, code: str) -> dict[str, Any]:
    since = request.GET.get("since", "0")
    if not since.isdigit():
        raise MessageRefused("'since' is a serial, a whole number")
    return {"ok": True, **set_changes(peer, code, int(since))}
