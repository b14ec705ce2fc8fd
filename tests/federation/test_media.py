"""Media on request: asked by the receiver of a forward, sent sealed by its sender when allowed.

Two parties, each half with its real code: this installation forwards a
URL to the German peer and answers its media request (sender side), or
takes a forward from it, asks for the media and takes the package in
(receiver side). The peer's package is made by the same production code
(``mediapackage.seal``) with the peer's keys.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.audit.models import AuditEvent
from openhotline.evidence.models import MediaItem
from openhotline.evidence.store import get_store
from openhotline.federation.actions.media import do_set_media_sharing
from openhotline.federation.actions.outbox import deliver_to_peer, envelope
from openhotline.federation.identity import age_recipient, identity
from openhotline.federation.mediapackage import PackageError, PackedItem, open_package, seal
from openhotline.federation.models import (
    IncomingForward,
    MediaRequest,
    MediaRequestState,
    MediaSharing,
    OutboxMessage,
    Peer,
)
from openhotline.reports.models import ReportedUrl
from tests.federation.conftest import PEER_SECRET, as_installation, post_signed
from tests.federation.fakepeer import fake_peer
from tests.network.conftest import AssessFn, generated_image, media_of, page_with_media
from tests.network.conftest import record_hosting as trace

INBOX = "/federation/v1/inbox"
HX = {"HX-Request": "true"}
LIMIT = 20 * 1024 * 1024


@pytest.fixture
def analyst_nl(hotline_b: Organisation) -> User:
    return do_create_user("berta", hotline_b, Role.ANALYST, password="correct horse 31")


# The sending side: our hotline A (DK) forwarded a URL to the German peer.


def _forwarded_to_de(hotline_a: Organisation, analyst: User, assess: AssessFn) -> ReportedUrl:
    page = page_with_media(hotline_a, "http://gallery.test/de", images=2)
    trace(page, country="DE")
    assess(page, analyst)
    return page


def _media_request(client: Client, reference: str, code: str = "REQUEST-0001") -> Any:
    message = {
        "id": f"ask-{code}",
        "type": "media_request",
        "body": {"reference": reference, "request": code},
    }
    return post_signed(client, INBOX, message)


def test_with_the_policy_off_a_media_request_is_refused_and_audited(
    client: Client, hotline_a: Organisation, analyst: User, assess: AssessFn, peer_de: Peer
) -> None:
    page = _forwarded_to_de(hotline_a, analyst, assess)
    response = _media_request(client, page.code)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "refused"
    answer = OutboxMessage.objects.get(peer=peer_de, type="media")
    assert answer.body["state"] == "refused" and answer.body["request"] == "REQUEST-0001"
    assert "package" not in answer.body and "package_blob" not in answer.body
    event = AuditEvent.objects.get(action="federation.media_refused")
    assert event.organisation == hotline_a and event.detail["reason"] == "policy"
    assert page.timeline.filter(kind="federation.media_refused").exists()


def test_with_the_policy_on_the_forwarded_items_go_sealed_to_the_peers_key_only(
    client: Client,
    hotline_a: Organisation,
    analyst: User,
    admin: User,
    assess: AssessFn,
    peer_de: Peer,
) -> None:
    page = _forwarded_to_de(hotline_a, analyst, assess)
    assert do_set_media_sharing(hotline_a, peer_de, True, actor=admin) is True
    response = _media_request(client, page.code)
    assert response.json()["state"] == "sent"
    answer = OutboxMessage.objects.get(peer=peer_de, type="media")
    assert "package" not in answer.body  # the package waits in the evidence store
    assert AuditEvent.objects.filter(action="federation.media_sent").count() == 1

    sent = envelope(answer)["body"]
    sealed = base64.b64decode(sent["package"])
    assert hashlib.sha256(sealed).hexdigest() == sent["sha256"] and "package_blob" not in sent
    with pytest.raises(PackageError):  # not even we can open it
        open_package(sealed, identity().age_identity(), max_bytes=LIMIT)
    with as_installation(PEER_SECRET):
        opened = open_package(sealed, identity().age_identity(), max_bytes=LIMIT)
    store = get_store()
    assert opened["reference"] == page.code and opened["request"] == "REQUEST-0001"
    assert {i.sha256: i.data for i in opened["items"]} == {
        m.sha256: store.get(m.blob.name) for m in media_of(page)
    }

    # Through the outbox to the peer's inbox on loopback: the package goes inline.
    with fake_peer() as remote:
        Peer.objects.filter(pk=peer_de.pk).update(base_url=remote.url)
        assert deliver_to_peer(peer_de.pk)["failed"] == 0
        media = [m for m in remote.received if m["type"] == "media"]
    assert media[0]["body"]["package"] == sent["package"]


def test_a_media_request_about_a_url_never_forwarded_to_that_peer_is_refused(
    client: Client, hotline_a: Organisation, peer_de: Peer
) -> None:
    stranger = page_with_media(hotline_a, "http://not-forwarded.test/", images=1)
    MediaSharing.objects.create(hotline=hotline_a, peer=peer_de)
    assert _media_request(client, stranger.code).status_code == 403
    assert not OutboxMessage.objects.filter(type="media").exists()


def test_only_a_hotlines_admin_sets_its_media_policy(
    hotline_a: Organisation,
    hotline_b: Organisation,
    admin: User,
    analyst: User,
    peer_de: Peer,
    as_user: Callable[[User], Client],
) -> None:
    path = f"/app/federation/peers/{peer_de.code}/media/allow/"
    client = as_user(admin)
    assert client.post(path, {"hotline": hotline_b.slug}).status_code == 404  # not their hotline
    assert as_user(analyst).get("/app/federation/").status_code == 404  # not an admin
    assert as_user(analyst).post(path, {"hotline": hotline_a.slug}).status_code == 404
    assert not MediaSharing.objects.exists()
    assert client.post(path, {"hotline": hotline_a.slug}).status_code == 302
    assert MediaSharing.objects.get().hotline == hotline_a
    assert "sent when asked" in client.get("/app/federation/").content.decode()
    event = AuditEvent.objects.get(action="federation.media_policy")
    assert event.actor == admin and event.detail["media_on_request"] is True
    stop = f"/app/federation/peers/{peer_de.code}/media/stop/"
    assert client.post(stop, {"hotline": hotline_a.slug}).status_code == 302
    assert not MediaSharing.objects.exists()


# The receiving side: the German peer forwarded a URL to our hotline B (NL).


def _forward_from_de(client: Client, pictures: list[bytes]) -> IncomingForward:
    items = [
        {"sha256": hashlib.sha256(p).hexdigest(), "md5": "", "pdq": "", "verdict": "baseline"}
        for p in pictures
    ]
    message = {
        "id": "forward-media-1",
        "type": "forward",
        "body": {
            "reference": "DE-URL-1",
            "url": "http://hosted-nl.test/gallery",
            "to_country": "NL",
            "items": items,
        },
    }
    assert post_signed(client, INBOX, message).status_code == 200
    return IncomingForward.objects.get(reference="DE-URL-1")


def _ask(analyst_nl: User, incoming: IncomingForward, as_user: Any) -> MediaRequest:
    staff = as_user(analyst_nl)
    code = incoming.reported_url.code
    assert staff.post(f"/app/federation/urls/{code}/media/ask/").status_code == 302
    request = MediaRequest.objects.get(incoming=incoming)
    asked = OutboxMessage.objects.get(type="media_request")
    assert asked.body == {"reference": "DE-URL-1", "request": request.code}
    return request


def _peers_package(request: MediaRequest, pictures: list[bytes]) -> dict[str, Any]:
    """What the German peer sends: the pictures sealed to our key, by the production code."""
    items = [
        PackedItem(hashlib.sha256(p).hexdigest(), "", "image/png", "baseline", p) for p in pictures
    ]
    sealed = seal(
        items,
        reference="DE-URL-1",
        request=request.code,
        recipient=age_recipient(identity().public_bytes),
    )
    return {
        "id": f"media-{request.code}",
        "type": "media",
        "body": {
            "reference": "DE-URL-1",
            "request": request.code,
            "state": "sent",
            "items": len(items),
            "sha256": hashlib.sha256(sealed).hexdigest(),
            "package": base64.b64encode(sealed).decode(),
        },
    }


def test_the_media_asked_for_arrive_encrypted_at_rest_blurred_and_a_reveal_is_audited(
    client: Client,
    hotline_b: Organisation,
    analyst_nl: User,
    peer_de: Peer,
    as_user: Callable[[User], Client],
) -> None:
    pictures = [generated_image(41), generated_image(42)]
    incoming = _forward_from_de(client, pictures)
    url = incoming.reported_url
    request = _ask(analyst_nl, incoming, as_user)
    assert AuditEvent.objects.filter(action="federation.media_requested").count() == 1

    response = post_signed(client, INBOX, _peers_package(request, pictures))
    assert response.status_code == 200, response.content
    request.refresh_from_db()
    assert request.state == MediaRequestState.RECEIVED and request.items == 2
    items = list(MediaItem.objects.filter(url_links__reported_url=url).select_related("blob"))
    assert sorted(i.sha256 for i in items) == sorted(
        hashlib.sha256(p).hexdigest() for p in pictures
    )
    store = get_store()
    for item in items:
        raw = store.storage.open_read(item.blob.name).read()
        assert pictures[0] not in raw and pictures[1] not in raw  # encrypted at rest
    assert AuditEvent.objects.filter(action="federation.media_received").count() == 1

    staff = as_user(analyst_nl)
    assert "Received" in staff.get(f"/app/urls/{url.code}/").content.decode()
    review = staff.get(f"/app/review/{url.code}/").content.decode()
    for item in items:
        assert f'id="img-{item.code}"' in review
    assert review.count('data-step="blurred"') >= 2
    revealed = staff.post(
        f"/app/review/{url.code}/reveal/{items[0].code}", {"step": "grey"}, headers=HX
    )
    assert revealed.status_code == 200
    assert AuditEvent.objects.filter(action="media.revealed", object_id=items[0].code).exists()


def test_a_refusal_is_a_clear_state_on_our_side_and_audited(
    client: Client,
    hotline_b: Organisation,
    analyst_nl: User,
    peer_de: Peer,
    as_user: Callable[[User], Client],
) -> None:
    incoming = _forward_from_de(client, [generated_image(43)])
    request = _ask(analyst_nl, incoming, as_user)
    refusal = {
        "id": "media-refused-1",
        "type": "media",
        "body": {
            "reference": "DE-URL-1",
            "request": request.code,
            "state": "refused",
            "reason": "the sending hotline does not send media to this installation",
        },
    }
    assert post_signed(client, INBOX, refusal).status_code == 200
    request.refresh_from_db()
    assert request.state == MediaRequestState.REFUSED and "does not send media" in request.reason
    assert AuditEvent.objects.filter(action="federation.media_refused_by_peer").count() == 1
    page = as_user(analyst_nl).get(f"/app/urls/{incoming.reported_url.code}/").content.decode()
    assert "Refused by the sender" in page and "Ask the sender for the media" in page
    assert not MediaItem.objects.exists()


def test_a_package_with_an_item_the_forward_did_not_list_stores_nothing(
    client: Client, hotline_b: Organisation, analyst_nl: User, peer_de: Peer, as_user: Any
) -> None:
    incoming = _forward_from_de(client, [generated_image(44)])
    request = _ask(analyst_nl, incoming, as_user)
    response = post_signed(client, INBOX, _peers_package(request, [generated_image(45)]))
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.state == MediaRequestState.FAILED and "did not list" in request.reason
    assert not MediaItem.objects.exists()


def test_media_for_a_request_we_never_made_are_refused(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    _forward_from_de(client, [generated_image(46)])
    stray = {
        "id": "media-stray-1",
        "type": "media",
        "body": {"reference": "DE-URL-1", "request": "NEVER-ASKED", "state": "refused"},
    }
    assert post_signed(client, INBOX, stray).status_code == 403


def test_an_outsider_cannot_ask_for_the_media_of_another_hotlines_url(
    client: Client, hotline_b: Organisation, analyst: User, peer_de: Peer, as_user: Any
) -> None:
    incoming = _forward_from_de(client, [generated_image(47)])
    path = f"/app/federation/urls/{incoming.reported_url.code}/media/ask/"
    assert as_user(analyst).post(path).status_code == 404  # hotline A's analyst
    assert not MediaRequest.objects.exists()
