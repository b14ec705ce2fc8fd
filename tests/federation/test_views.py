"""The federation staff page: peers and undelivered messages, for hotline admins only."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.audit.models import AuditEvent
from openhotline.federation.actions.outbox import put_in_outbox
from openhotline.federation.models import OutboxMessage, OutboxState, Peer
from tests.conftest import verified_client


def _waiting(peer: Peer, hotline: Organisation) -> OutboxMessage:
    message = put_in_outbox(peer, "status", {"n": 1}, hotline=hotline, ordering_key="k")
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxState.FAILING, attempts=2, last_error="HTTP 503: maintenance"
    )
    return message


def test_an_admin_sees_the_peers_and_the_failing_deliveries_of_their_hotline(
    admin: User, hotline_a: Organisation, hotline_b: Organisation, peer_de: Peer
) -> None:
    mine = _waiting(peer_de, hotline_a)
    theirs = _waiting(peer_de, hotline_b)
    page = verified_client(admin).get("/app/federation/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Hotline DE installation" in text and peer_de.key_id in text
    assert mine.message_id in text and "HTTP 503: maintenance" in text
    assert theirs.message_id not in text


def test_an_admin_retries_and_gives_up_a_delivery(
    admin: User, hotline_a: Organisation, peer_de: Peer
) -> None:
    message = _waiting(peer_de, hotline_a)
    client = verified_client(admin)
    response = client.post(f"/app/federation/deliveries/{message.message_id}/retry/")
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.next_attempt_at <= timezone.now()
    response = client.post(f"/app/federation/deliveries/{message.message_id}/give-up/")
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == OutboxState.GIVEN_UP
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"federation.delivery_retried", "federation.delivery_given_up"} <= actions


def test_an_analyst_and_another_hotlines_admin_are_refused(
    analyst: User, hotline_a: Organisation, hotline_b: Organisation, peer_de: Peer
) -> None:
    message = _waiting(peer_de, hotline_a)
    assert verified_client(analyst).get("/app/federation/").status_code == 404
    other_admin = do_create_user("otto", hotline_b, Role.ADMIN, password="correct horse 99")
    client: Any = verified_client(other_admin)
    assert client.get("/app/federation/").status_code == 200
    for action in ("retry", "give-up"):
        url = f"/app/federation/deliveries/{message.message_id}/{action}/"
        assert client.post(url).status_code == 404
    message.refresh_from_db()
    assert message.state == OutboxState.FAILING
