"""Media on request: the receiver of a forward asks its sender for the media, in a package.

A forward carries hashes, never media. An analyst of the receiving
installation may ask for them (``do_request_media``): a ``media_request``
message goes to the sender through the outbox. The sender answers with a
``media`` message (``do_receive_media_request``):

- when the policy of the hotline that forwarded the URL allows media to
  that peer (``MediaSharing``, off unless an admin turns it on), the items
  the forward listed, in an encrypted package (``mediapackage``: age, to
  the requesting installation's Ed25519 key);
- otherwise a refusal, with the reason.

Both sides audit what happened and note it on the URL's timeline. The
receiver stores the items in its evidence store (encrypted at rest) and
links them to its URL (``do_receive_media``), where they are shown blurred
and every reveal is counted and audited, as for media a crawl found.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.evidence.actions import do_store_media
from openhotline.evidence.models import MediaItem
from openhotline.evidence.store import get_store
from openhotline.federation.actions.forwards import MessageRefused, ordering_key
from openhotline.federation.actions.outbox import put_in_outbox
from openhotline.federation.identity import age_recipient, identity, parse_public_key
from openhotline.federation.mediapackage import PackageError, PackedItem, open_package, seal
from openhotline.federation.models import (
    IncomingForward,
    MediaRequest,
    MediaRequestState,
    MediaSharing,
    MessageType,
    OutgoingForward,
    Peer,
)
from openhotline.reports.actions import add_timeline
from openhotline.reports.models import ReportedUrl

POLICY_REFUSAL = "the sending hotline does not send media to this installation"


def do_set_media_sharing(
    hotline: Organisation, peer: Peer, allowed: bool, *, actor: User | None = None
) -> bool:
    """Allow or stop media on request from ``hotline`` to ``peer``; True when it changed."""
    with transaction.atomic():
        if allowed:
            _, changed = MediaSharing.objects.get_or_create(
                hotline=hotline, peer=peer, defaults={"created_by": actor}
            )
        else:
            changed = MediaSharing.objects.filter(hotline=hotline, peer=peer).delete()[0] > 0
        if changed:
            record(
                "federation.media_policy",
                actor=actor,
                organisation=hotline,
                obj=peer,
                detail={"peer": peer.name, "media_on_request": allowed},
            )
    return changed


def media_allowed(hotline: Organisation, peer: Peer) -> bool:
    return MediaSharing.objects.filter(hotline=hotline, peer=peer).exists()


# The receiving side: asking, and taking the answer in.


def do_request_media(incoming: IncomingForward, *, actor: User) -> MediaRequest:
    """Ask the peer that forwarded ``incoming`` for its media (one open request at a time)."""
    with transaction.atomic():
        locked = IncomingForward.objects.select_for_update().get(pk=incoming.pk)
        waiting = locked.media_requests.filter(state=MediaRequestState.REQUESTED).first()
        if waiting is not None:
            return waiting
        url = ReportedUrl.objects.select_related("hotline").get(pk=locked.reported_url_id)
        request = MediaRequest.objects.create(incoming=locked, requested_by=actor)
        put_in_outbox(
            locked.peer,
            MessageType.MEDIA_REQUEST,
            {"reference": locked.reference, "request": request.code},
            hotline=url.hotline,
            ordering_key=ordering_key(url),
        )
        add_timeline(
            f"{actor.username} asked {locked.peer.name} ({locked.peer.country}) for the media",
            kind="federation.media_requested",
            reported_url=url,
            actor=actor,
            detail={"peer": locked.peer.code, "request": request.code},
        )
        record(
            "federation.media_requested",
            actor=actor,
            organisation=url.hotline,
            obj=url,
            detail={"peer": locked.peer.name, "request": request.code},
        )
    return request


def _answered(request: MediaRequest, state: str, reason: str = "", items: int = 0) -> None:
    request.state, request.reason, request.items = state, reason[:300], items
    request.answered_at = timezone.now()
    request.save(update_fields=["state", "reason", "items", "answered_at"])


def do_receive_media(peer: Peer, body: dict[str, Any]) -> dict[str, Any]:
    """The sender's answer to our request (in the inbox's transaction).

    A refusal is noted. A package is decrypted and checked; each item must be
    one the forward listed (by SHA-256); the items are stored and linked to
    our URL. A package that does not open is noted as failed, not refused:
    sending it again would not make it open.
    """
    code = body.get("request")
    request = (
        MediaRequest.objects.select_for_update()
        .filter(code=code if isinstance(code, str) else "", incoming__peer=peer)
        .select_related("incoming")
        .first()
    )
    if request is None:
        raise MessageRefused(f"no media request {code!r} was sent to this peer", 403)
    incoming = request.incoming
    url = ReportedUrl.objects.select_related("hotline").get(pk=incoming.reported_url_id)
    if request.state != MediaRequestState.REQUESTED:
        return {"state": request.state}
    if body.get("state") != "sent":
        reason = str(body.get("reason") or "refused")[:300]
        _answered(request, MediaRequestState.REFUSED, reason)
        _note(url, peer, request, "media_refused_by_peer", f"refused to send the media: {reason}")
        return {"state": request.state}
    try:
        items = _unpack(incoming, request, body)
    except PackageError as exc:
        _answered(request, MediaRequestState.FAILED, str(exc))
        _note(url, peer, request, "media_unreadable", f"sent media that could not be opened: {exc}")
        return {"state": request.state}
    for item in items:
        do_store_media(
            item.data, mime=item.mime, reported_url=url, source_url=url.url, found_in="forwarded"
        )
    _answered(request, MediaRequestState.RECEIVED, items=len(items))
    _note(url, peer, request, "media_received", f"sent the media: {len(items)} item(s)")
    return {"state": request.state, "items": len(items)}


def _unpack(
    incoming: IncomingForward, request: MediaRequest, body: dict[str, Any]
) -> list[PackedItem]:
    package = body.get("package")
    if not isinstance(package, str):
        raise PackageError("no package")
    try:
        sealed = base64.b64decode(package, validate=True)
    except ValueError:
        raise PackageError("the package is not base64") from None
    if hashlib.sha256(sealed).hexdigest() != body.get("sha256"):
        raise PackageError("the package does not match its SHA-256")
    opened = open_package(
        sealed, identity().age_identity(), max_bytes=settings.OPENHOTLINE_FEDERATION_MEDIA_MAX_BYTES
    )
    if opened["reference"] != incoming.reference or opened["request"] != request.code:
        raise PackageError("the package is for another URL or request")
    listed = {
        str(i.get("sha256", "")).lower()
        for i in incoming.payload.get("items") or []
        if isinstance(i, dict)
    }
    items: list[PackedItem] = opened["items"]
    strangers = [i.sha256 for i in items if i.sha256 not in listed]
    if strangers:
        raise PackageError(f"{len(strangers)} item(s) the forward did not list")
    return items


def _note(url: ReportedUrl, peer: Peer, request: MediaRequest, event: str, text: str) -> None:
    add_timeline(
        f"{peer.name} ({peer.country}) {text}"[:500],
        kind=f"federation.{event}",
        reported_url=url,
        detail={"peer": peer.code, "request": request.code},
    )
    record(
        f"federation.{event}",
        organisation=url.hotline,
        obj=url,
        detail={"peer": peer.name, "request": request.code, "reason": request.reason},
    )


# The sending side: answering a request.


def do_receive_media_request(peer: Peer, body: dict[str, Any]) -> dict[str, Any]:
    """A peer asks for the media of a URL we forwarded it (in the inbox's transaction).

    1. Only a URL forwarded to that peer (403 otherwise).
    2. The forwarding hotline's policy for that peer: off, a refusal goes back.
    3. On: the items the forward listed, read from our evidence store, sealed
       to the peer's key, up to the size limit (the rest is left out and
       counted), kept in the evidence store until the message is delivered.
    """
    reference, code = body.get("reference"), body.get("request")
    if not isinstance(reference, str) or not isinstance(code, str) or not 8 <= len(code) <= 40:
        raise MessageRefused("a media request has a 'reference' and a 'request' code")
    outgoing = (
        OutgoingForward.objects.filter(peer=peer, reported_url__code=reference)
        .select_related("message", "reported_url__hotline")
        .first()
    )
    if outgoing is None:
        raise MessageRefused(f"nothing was forwarded to this peer as {reference!r}", 403)
    url = outgoing.reported_url
    answer: dict[str, Any] = {"reference": reference, "request": code}
    detail: dict[str, Any]
    if not media_allowed(url.hotline, peer):
        answer.update(state="refused", reason=POLICY_REFUSAL)
        event, detail = "media_refused", {"reason": "policy"}
    else:
        items, left_out = _items_to_send(outgoing)
        sealed = seal(
            items,
            reference=reference,
            request=code,
            recipient=age_recipient(parse_public_key(peer.public_key)),
        )
        ref = get_store().put(sealed)
        answer.update(
            state="sent",
            items=len(items),
            left_out=left_out,
            sha256=ref.sha256,
            size=len(sealed),
            package_blob=ref.name,
        )
        event, detail = "media_sent", {"items": len(items), "left_out": left_out}
    put_in_outbox(
        peer, MessageType.MEDIA, answer, hotline=url.hotline, ordering_key=ordering_key(url)
    )
    add_timeline(
        f"{peer.name} ({peer.country}) asked for the media: "
        + ("sent" if answer["state"] == "sent" else "refused (our policy)"),
        kind=f"federation.{event}",
        reported_url=url,
        detail={"peer": peer.code, "request": code, **detail},
    )
    record(
        f"federation.{event}",
        organisation=url.hotline,
        obj=url,
        detail={"peer": peer.name, "request": code, **detail},
    )
    return {"state": answer["state"]}


def _items_to_send(outgoing: OutgoingForward) -> tuple[list[PackedItem], int]:
    listed = {
        str(i.get("sha256")): str(i.get("verdict") or "")
        for i in outgoing.message.body.get("items") or []
        if isinstance(i, dict)
    }
    media = MediaItem.objects.filter(sha256__in=listed).select_related("blob").order_by("pk")
    store = get_store()
    limit = settings.OPENHOTLINE_FEDERATION_MEDIA_MAX_BYTES
    items, total, left_out = [], 0, 0
    for medium in media:
        if total + medium.size > limit:
            left_out += 1
            continue
        data = store.get(medium.blob.name)
        total += len(data)
        items.append(
            PackedItem(
                sha256=medium.sha256,
                md5=medium.md5,
                mime=medium.mime,
                verdict=listed[medium.sha256],
                data=data,
            )
        )
    return items, left_out
