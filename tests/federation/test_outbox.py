"""Routing into the outbox, delivery in order with retries, and the races around it."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.federation.actions.outbox import (
    deliver_to_peer,
    do_give_up_message,
    do_retry_message,
    put_in_outbox,
)
from openhotline.federation.models import (
    OutboxMessage,
    OutboxState,
    OutgoingForward,
    Peer,
)
from openhotline.network.models import Forward, ForwardKind, ForwardState, Route, RouteKind
from openhotline.reports.models import ReportedUrl, UrlState
from tests.federation.conftest import OTHER_SECRET
from tests.federation.fakepeer import fake_peer
from tests.network.conftest import AssessFn, media_of, page_with_media, record_hosting
from tests.support.racers import Racers, postgres_only
from tests.support.services import free_port


def test_an_illegal_url_hosted_in_a_peers_country_goes_to_the_outbox_not_by_mail(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    peer_de: Peer,
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/de", images=2)
    record_hosting(page, country="DE", hoster="Hoster GmbH")
    items = media_of(page)
    assess(page, analyst)

    route = Route.objects.get(reported_url=page)
    assert route.kind == RouteKind.FORWARD_EXTERNAL
    forward = Forward.objects.get(sender_url=page)
    assert forward.kind == ForwardKind.EXTERNAL and forward.state == ForwardState.SENDING
    assert mail.outbox == []  # no e-mail: the peer takes it
    message = OutboxMessage.objects.get(peer=peer_de)
    assert message.type == "forward" and message.hotline == hotline_a
    body = message.body
    assert body["reference"] == page.code and body["url"] == page.url
    assert body["to_country"] == "DE"
    assert body["verdict"]["verdict"] == "baseline"
    assert {i["sha256"] for i in body["items"]} == {i.sha256 for i in items}
    assert {i["md5"] for i in body["items"]} == {i.md5 for i in items}
    assert body["hosting"]["country"] == "DE" and body["hosting"]["hoster"] == "Hoster GmbH"
    assert "media" not in body and all(
        set(i) == {"sha256", "md5", "pdq", "verdict"} for i in body["items"]
    )
    assert OutgoingForward.objects.get(reported_url=page).message == message
    page.refresh_from_db()
    assert page.state == UrlState.FORWARDED


def _peer_at(peer: Peer, url: str) -> Peer:
    Peer.objects.filter(pk=peer.pk).update(base_url=url)
    peer.refresh_from_db()
    return peer


def _message(peer: Peer, key: str, n: int) -> OutboxMessage:
    return put_in_outbox(peer, "status", {"n": n}, hotline=None, ordering_key=key)


def test_delivery_is_signed_in_order_and_a_failure_holds_back_only_its_own_url(
    peer_de: Peer,
) -> None:
    with fake_peer() as remote:
        peer = _peer_at(peer_de, remote.url)
        first_x = _message(peer, "url-x", 1)
        second_x = _message(peer, "url-x", 2)
        only_y = _message(peer, "url-y", 3)
        remote.failing.add(first_x.message_id)

        assert deliver_to_peer(peer.pk) == {"delivered": 1, "failed": 1, "busy": 0}
        assert remote.ids() == [first_x.message_id, only_y.message_id]
        first_x.refresh_from_db()
        assert first_x.state == OutboxState.FAILING and "HTTP 500" in first_x.last_error
        assert first_x.next_attempt_at > timezone.now()
        assert "signature-input" in {k.lower() for k in remote.headers[0]}

        remote.failing.clear()
        assert deliver_to_peer(peer.pk)["delivered"] == 0  # backing off
        OutboxMessage.objects.filter(pk=first_x.pk).update(next_attempt_at=timezone.now())
        assert deliver_to_peer(peer.pk) == {"delivered": 2, "failed": 0, "busy": 0}
        assert remote.ids()[2:] == [first_x.message_id, second_x.message_id]
    states = set(OutboxMessage.objects.values_list("state", flat=True))
    assert states == {OutboxState.DELIVERED}


def test_a_peer_down_gets_everything_on_its_return_once(
    peer_de: Peer, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_FEDERATION_RETRY_SECONDS = 0.01
    settings.OPENHOTLINE_FEDERATION_RETRY_MAX_SECONDS = 0.01
    peer = _peer_at(peer_de, f"http://127.0.0.1:{free_port()}/")  # nothing listens
    sent = [_message(peer, f"url-{n % 2}", n) for n in range(4)]
    result = deliver_to_peer(peer.pk)
    assert result["delivered"] == 0 and result["failed"] == 1  # the round ends at the first
    assert OutboxMessage.objects.get(pk=sent[0].pk).last_error.startswith("not reached")
    # The back-off (10 ms) is over however fast the next round starts.
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    with fake_peer() as remote:
        _peer_at(peer, remote.url)
        assert deliver_to_peer(peer.pk)["delivered"] == 4
        assert remote.ids() == [m.message_id for m in sent]
        assert deliver_to_peer(peer.pk)["delivered"] == 0
        assert len(remote.ids()) == 4


def test_an_admin_retries_or_gives_up_a_delivery(peer_de: Peer, admin: User) -> None:
    message = _message(peer_de, "k", 1)
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxState.FAILING, attempts=3, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    message.refresh_from_db()
    do_retry_message(message, actor=admin)
    message.refresh_from_db()
    assert message.next_attempt_at <= timezone.now()
    do_give_up_message(message, actor=admin)
    with fake_peer() as remote:
        _peer_at(peer_de, remote.url)
        deliver_to_peer(peer_de.pk)
        assert remote.ids() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_to_one_peer_send_each_message_once_in_order(
    peer_de: Peer,
) -> None:
    with fake_peer() as remote:
        remote.delay = 0.1
        peer = _peer_at(peer_de, remote.url)
        sent = [_message(peer, "same-url", n) for n in range(6)]
        with Racers(3, os.environ["OPENHOTLINE_DATA"]) as racers:
            results = racers.run("tests.federation.racepaths.deliver", peer.pk)
        assert sorted(r["busy"] for r in results) == [0, 1, 1]
        assert remote.ids() == [m.message_id for m in sent]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_one_message_delivered_twice_at_once_makes_one_report(
    hotline_b: Organisation, peer_de: Peer
) -> None:
    envelope: dict[str, Any] = {
        "id": "race-message-1",
        "type": "forward",
        "body": {"reference": "R1", "url": "http://hosted-nl.test/race", "to_country": "NL"},
    }
    with Racers(3, os.environ["OPENHOTLINE_DATA"]) as racers:
        codes = racers.run("tests.federation.racepaths.receive", peer_de.pk, envelope)
    assert len(set(codes)) == 1
    assert ReportedUrl.objects.filter(url="http://hosted-nl.test/race").count() == 1


def test_the_hourly_network_sweep_never_e_mails_a_forward_the_outbox_holds(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    peer_de: Peer,
) -> None:
    from openhotline.network.tasks import send_forward_package, sweep

    page = page_with_media(hotline_a, "http://gallery.test/de-late", images=1)
    record_hosting(page, country="DE")
    assess(page, analyst)
    forward = Forward.objects.get(sender_url=page)
    Forward.objects.filter(pk=forward.pk).update(created_at=timezone.now() - timedelta(hours=2))
    sweep()  # queues it again, as for an e-mail forward that did not go
    assert send_forward_package(forward.pk) == "nothing to do"
    assert mail.outbox == []
    forward.refresh_from_db()
    assert forward.state == ForwardState.SENDING and forward.attempts == 0


@pytest.mark.parametrize(
    ("signer", "reason"), [(None, "unsigned answer"), (OTHER_SECRET, "bad answer signature")]
)
def test_an_answer_the_peer_did_not_sign_is_refused_and_audited(
    peer_de: Peer, signer: str | None, reason: str
) -> None:
    with fake_peer() as remote:
        remote.signer = signer
        peer = _peer_at(peer_de, remote.url)
        message = _message(peer, "k", 1)
        assert deliver_to_peer(peer.pk) == {"delivered": 0, "failed": 1, "busy": 0}
        assert remote.ids() == [message.message_id]  # it arrived; its answer did not count
    message.refresh_from_db()
    assert message.state == OutboxState.FAILING and reason in message.last_error
    event = AuditEvent.objects.get(action="federation.answer_refused")
    assert event.detail["reason"] == reason and event.detail["peer"] == peer_de.name
