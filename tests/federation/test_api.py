"""The signed peer API: what is refused (401/403/429, audited), and what a forward becomes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation
from openhotline.audit.models import AuditEvent
from openhotline.federation.actions.peers import do_set_peer_state
from openhotline.federation.identity import identity
from openhotline.federation.models import InboxMessage, IncomingForward, Peer, PeerState
from openhotline.federation.signing import Answer, Message, Refusal, sign, verify_answer
from openhotline.reports.models import Report, ReportedUrl, ReportSource, UrlState
from tests.federation.conftest import (
    OTHER_SECRET,
    PEER_SECRET,
    as_installation,
    post_signed,
    signed_headers,
)

INBOX = "/federation/v1/inbox"


def forward(reference: str = "URL-DE-1", url: str = "http://hosted-nl.test/a") -> dict[str, Any]:
    return {
        "id": f"msg-{reference}",
        "type": "forward",
        "created": timezone.now().isoformat(),
        "body": {
            "reference": reference,
            "url": url,
            "sender": {"hotline": "Hotline DE", "country": "DE"},
            "to_country": "NL",
            "verdict": {"verdict": "baseline", "label": "Baseline"},
            "items": [{"sha256": "a" * 64, "md5": "b" * 32, "pdq": "", "verdict": "baseline"}],
            "hosting": {"country": "NL", "hoster": "Hoster B.V."},
        },
    }


def refusals() -> list[dict[str, Any]]:
    return [e.detail for e in AuditEvent.objects.filter(action="federation.refused")]


def test_a_signed_forward_becomes_a_report_of_the_hotline_of_that_country(
    client: Client, hotline_a: Organisation, hotline_b: Organisation, peer_de: Peer
) -> None:
    response = post_signed(client, INBOX, forward())
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True and response.json()["duplicate"] is False
    url = ReportedUrl.objects.get(url="http://hosted-nl.test/a")
    assert url.hotline == hotline_b  # the Dutch hotline, not the Danish one
    assert url.state == UrlState.NEW  # in the analysts' queue
    report = Report.objects.get(urls=url)
    assert report.source == ReportSource.HOTLINE
    assert "Forwarded by Hotline DE" in report.description
    assert url.timeline.filter(kind="federation.forwarded_in").exists()
    assert IncomingForward.objects.get(peer=peer_de).reference == "URL-DE-1"


def test_the_same_message_twice_has_its_effect_once(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    first = post_signed(client, INBOX, forward())
    again = post_signed(client, INBOX, forward())  # a new signature, the same message id
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["duplicate"] is True
    assert again.json()["url"] == first.json()["url"]
    assert ReportedUrl.objects.filter(url="http://hosted-nl.test/a").count() == 1
    assert InboxMessage.objects.filter(peer=peer_de).count() == 1


def test_an_unsigned_request_is_refused_and_audited(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    response = client.post(INBOX, json.dumps(forward()), content_type="application/json")
    assert response.status_code == 401
    assert not ReportedUrl.objects.exists()
    assert [r["reason"] for r in refusals()] == ["unsigned"]


def test_an_unknown_key_is_refused(client: Client, hotline_b: Organisation, peer_de: Peer) -> None:
    response = post_signed(client, INBOX, forward(), secret=OTHER_SECRET)
    assert response.status_code == 401
    assert not ReportedUrl.objects.exists()
    assert refusals()[0]["reason"] == "unknown key"


def test_a_tampered_body_is_refused(client: Client, hotline_b: Organisation, peer_de: Peer) -> None:
    body = json.dumps(forward()).encode()
    headers = signed_headers("POST", INBOX, body)
    tampered = body.replace(b"hosted-nl.test/a", b"hosted-nl.test/b")
    response = client.generic("POST", INBOX, tampered, content_type="application/json", **headers)
    assert response.status_code == 401
    assert not ReportedUrl.objects.exists()
    assert refusals()[0]["reason"] == "bad signature"
    assert refusals()[0]["peer"] == peer_de.name


def test_a_signature_for_another_path_is_refused(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    body = json.dumps({"tags": []}).encode()
    headers = signed_headers("POST", "/federation/v1/deconfliction", body)
    response = client.generic("POST", INBOX, body, content_type="application/json", **headers)
    assert response.status_code == 401


def test_a_replayed_request_is_refused(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    body = json.dumps(forward()).encode()
    headers = signed_headers("POST", INBOX, body)
    first = client.generic("POST", INBOX, body, content_type="application/json", **headers)
    replay = client.generic("POST", INBOX, body, content_type="application/json", **headers)
    assert (first.status_code, replay.status_code) == (200, 401)
    assert refusals()[0]["reason"] == "replayed"


def test_a_request_signed_for_another_installation_is_refused(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    with as_installation(OTHER_SECRET):
        elsewhere = identity().key_id
    body = json.dumps(forward()).encode()
    headers = signed_headers("POST", INBOX, body, recipient=elsewhere)
    response = client.generic("POST", INBOX, body, content_type="application/json", **headers)
    assert response.status_code == 401
    assert refusals()[0]["reason"] == "wrong recipient"


def _signed_at(created: Any, body: bytes) -> dict[str, Any]:
    message = Message(method="POST", url=f"http://testserver{INBOX}", headers={})
    recipient = identity().key_id
    with as_installation(PEER_SECRET):
        sign(message, body, recipient_key_id=recipient, created=created)
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in message.headers.items()}


def test_a_stale_request_is_refused_but_a_few_minutes_of_skew_are_tolerated(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    stale = forward("STALE")
    body = json.dumps(stale).encode()
    old = _signed_at(timezone.now() - timedelta(minutes=11), body)
    response = client.generic("POST", INBOX, body, content_type="application/json", **old)
    assert response.status_code == 401
    skewed = forward("AHEAD")
    body = json.dumps(skewed).encode()
    ahead = _signed_at(timezone.now() + timedelta(minutes=3), body)
    response = client.generic("POST", INBOX, body, content_type="application/json", **ahead)
    assert response.status_code == 200, response.content
    behind = forward("BEHIND")
    body = json.dumps(behind).encode()
    late = _signed_at(timezone.now() - timedelta(minutes=4), body)
    response = client.generic("POST", INBOX, body, content_type="application/json", **late)
    assert response.status_code == 200, response.content


def test_a_paused_peer_is_refused_with_403(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    do_set_peer_state(peer_de, PeerState.PAUSED)
    response = post_signed(client, INBOX, forward())
    assert response.status_code == 403
    assert not ReportedUrl.objects.exists()
    assert refusals()[0]["reason"] == "peer paused"


def test_a_status_about_something_never_forwarded_to_that_peer_is_refused_with_403(
    client: Client, hotline_a: Organisation, peer_de: Peer
) -> None:
    stranger = ReportedUrl.objects.create(
        hotline=hotline_a, url="http://a.test/x", normalized_url="http://a.test/x"
    )
    status = {
        "id": "status-0001",
        "type": "status",
        "body": {"reference": stranger.code, "events": {"removed": {"at": "2026-01-01T00:00Z"}}},
    }
    response = post_signed(client, INBOX, status)
    assert response.status_code == 403
    stranger.refresh_from_db()
    assert stranger.removed_at is None
    assert not InboxMessage.objects.exists()
    assert "nothing was forwarded" in refusals()[0]["reason"]


def test_requests_beyond_the_rate_limit_get_429(
    client: Client, settings: SettingsWrapper, hotline_b: Organisation, peer_de: Peer
) -> None:
    settings.OPENHOTLINE_FEDERATION_RATE_PER_MINUTE = 3
    codes = [
        post_signed(client, "/federation/v1/deconfliction", {"tags": []}).status_code
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    assert refusals()[0]["reason"] == "rate limited"


def test_malformed_messages_get_422_and_change_nothing(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    bad: Any
    for bad in (
        [],
        {"id": "short", "type": "forward", "body": {}},
        {"id": "message-1", "type": "unknown", "body": {}},
        {"id": "message-2", "type": "forward", "body": {"reference": "R"}},
        {"id": "message-3", "type": "forward", "body": {**forward()["body"], "to_country": "FR"}},
        {"id": "message-4", "type": "forward", "body": {**forward()["body"], "url": "ftp://x"}},
    ):
        response = post_signed(client, INBOX, bad)
        assert response.status_code == 422, (bad, response.content)
    assert not ReportedUrl.objects.exists()
    assert not InboxMessage.objects.exists()


def test_our_answers_are_signed_for_the_request_they_answer_only(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    path = "/federation/v1/deconfliction"
    us = Peer(name="us", key_id=identity().key_id, public_key=identity().public_text)

    def ask() -> tuple[Message, Any]:
        body = json.dumps({"tags": []}).encode()
        message = Message(method="POST", url=f"http://testserver{path}", headers={})
        with as_installation(PEER_SECRET):
            sign(message, body, recipient_key_id=us.key_id)
        headers: dict[str, Any] = {
            f"HTTP_{k.upper().replace('-', '_')}": v for k, v in message.headers.items()
        }
        response = client.generic("POST", path, body, content_type="application/json", **headers)
        assert response.status_code == 200, response.content
        return message, response

    first, answer = ask()
    answer_headers = {k.lower(): v for k, v in answer.headers.items()}
    covered = answer_headers["signature-input"]
    assert covered.startswith("ohfed=") and '"signature";req;key="ohfed"' in covered
    verify_answer(Answer(200, first, answer_headers), answer.content, us)  # the caller's check
    second, _ = ask()
    with pytest.raises(Refusal):  # the same answer, offered for another request
        verify_answer(Answer(200, second, answer_headers), answer.content, us)
    with pytest.raises(Refusal):  # another body
        verify_answer(Answer(200, first, answer_headers), answer.content + b" ", us)
    with pytest.raises(Refusal):  # another status
        verify_answer(Answer(403, first, answer_headers), answer.content, us)
    with pytest.raises(Refusal):  # signed by someone else than the peer asked
        verify_answer(Answer(200, first, answer_headers), answer.content, peer_de)
