"""The federation API under ``/federation/v1/``: signed requests from peers only.

Every view verifies the request's signature first (``signing.verify``); a
refusal answers 401, 403 or 429 with a short JSON reason and is written to
the audit log (``do_note_refusal``). Every answer to a request that passed
is signed (``signing.sign_answer``), bound to that request. No session, no
CSRF token: the signature is the authentication.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from openhotline.federation.actions.deconfliction import answer_question
from openhotline.federation.actions.forwards import MessageRefused
from openhotline.federation.actions.hashsets import published_sets, set_changes
from openhotline.federation.actions.inbox import do_receive_message
from openhotline.federation.actions.peers import do_note_refusal
from openhotline.federation.models import Peer
from openhotline.federation.signing import Answer, Message, Refusal, sign_answer, verify
from openhotline.lib.clientaddress import client_address

MAX_BODY = 5 * 1024 * 1024


def max_body() -> int:
    # A media package travels in a message, base64 (4/3 of its size) with some JSON around it.
    return max(MAX_BODY, settings.OPENHOTLINE_FEDERATION_MEDIA_MAX_BYTES * 4 // 3 + 1024 * 1024)


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


def _signed_answer(message: Message, response: HttpResponse) -> HttpResponse:
    """Sign the answer to a verified request, bound to that request's signature."""
    answer = Answer(response.status_code, message)
    sign_answer(answer, response.content)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def signed(methods: tuple[str, ...]) -> Callable[[PeerView], Callable[[HttpRequest], HttpResponse]]:
    def wrap(view: PeerView) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def run(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return JsonResponse({"ok": False, "error": "method not allowed"}, status=405)
            length = int(request.headers.get("Content-Length") or 0)
            if length > max_body():
                return JsonResponse({"ok": False, "error": "too large"}, status=413)
            # Read from the stream, bounded by the bytes received: ``request.body`` would
            # stop at Django's upload limit, below a media package.
            body = request.read(max_body() + 1)
            if len(body) > max_body():
                return JsonResponse({"ok": False, "error": "too large"}, status=413)
            message = _message(request)
            try:
                peer = verify(message, body)
            except Refusal as refusal:
                return _refuse(request, refusal.status, refusal.reason, refusal.peer)
            try:
                response = JsonResponse(view(request, peer, body, *args, **kwargs))
            except MessageRefused as exc:
                if exc.status == 403:
                    response = _refuse(request, 403, str(exc)[:200], peer)
                else:
                    error = {"ok": False, "error": str(exc)[:500]}
                    response = JsonResponse(error, status=exc.status)
            return _signed_answer(message, response)

        return run

    return wrap


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise MessageRefused("the body is not JSON") from None


@signed(("POST",))
def inbox(request: HttpRequest, peer: Peer, body: bytes) -> dict[str, Any]:
    return do_receive_message(peer, _json(body))


@signed(("POST",))
def deconfliction(request: HttpRequest, peer: Peer, body: bytes) -> dict[str, Any]:
    return {"ok": True, **answer_question(peer, _json(body))}


@signed(("GET",))
def hash_sets(request: HttpRequest, peer: Peer, body: bytes) -> dict[str, Any]:
    return {"ok": True, "sets": published_sets(peer)}


@signed(("GET",))
def hash_set_changes(request: HttpRequest, peer: Peer, body: bytes, code: str) -> dict[str, Any]:
    since, removed_since = request.GET.get("since", "0"), request.GET.get("removed_since")
    if not since.isdigit() or not (removed_since is None or removed_since.isdigit()):
        raise MessageRefused("'since' and 'removed_since' are serials, whole numbers")
    removed = None if removed_since is None else int(removed_since)
    return {"ok": True, **set_changes(peer, code, int(since), removed)}
