"""Progress back, deconfliction by keyed hash and hash-set changes, through the signed API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import do_finish_url
from openhotline.audit.models import AuditEvent
from openhotline.federation.actions.hashsets import do_publish, do_pull, do_subscribe, set_changes
from openhotline.federation.actions.progress import do_report_progress
from openhotline.federation.identity import identity, pair_key, url_tag
from openhotline.federation.models import (
    IncomingForward,
    OutboxMessage,
    OutgoingForward,
    Peer,
    PeerUrlTag,
    Subscription,
)
from openhotline.matching.actions.hash_sets import do_create_set
from openhotline.matching.changelog import log_removed
from openhotline.matching.models import HashEntry, IndexChange
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, UrlState
from tests.federation.conftest import PEER_SECRET, as_installation, get_signed, post_signed
from tests.federation.fakepeer import fake_peer
from tests.network.conftest import AssessFn, page_with_media, record_hosting

INBOX = "/federation/v1/inbox"


@pytest.fixture
def analyst_nl(hotline_b: Organisation) -> User:
    return do_create_user("berta", hotline_b, Role.ANALYST, password="correct horse 31")


def _forwarded_to_de(hotline_a: Organisation, analyst: User, assess: AssessFn) -> ReportedUrl:
    page = page_with_media(hotline_a, "http://gallery.test/de", images=1)
    record_hosting(page, country="DE")
    assess(page, analyst)
    assert OutgoingForward.objects.filter(reported_url=page).exists()
    return page


def test_the_peers_progress_lands_on_our_timeline_once_and_counts_as_removal(
    client: Client, hotline_a: Organisation, analyst: User, assess: AssessFn, peer_de: Peer
) -> None:
    page = _forwarded_to_de(hotline_a, analyst, assess)
    # Whole seconds, as a peer sends them, and not before our report (which the time to
    # removal counts from): the next whole second after it.
    removed = (page.created_at + timedelta(seconds=1)).replace(microsecond=0)
    events = {
        "assessed": {"at": removed.isoformat(), "verdict": "baseline", "label": "Baseline"},
        "police_referral": {"at": removed.isoformat()},
        "removed": {"at": removed.isoformat()},
    }
    for n in (1, 2):  # a second status with the same events adds nothing
        status = {
            "id": f"status-000{n}",
            "type": "status",
            "body": {"reference": page.code, "events": events},
        }
        response = post_signed(client, INBOX, status)
        assert response.status_code == 200, response.content
    page.refresh_from_db()
    kinds = list(
        page.timeline.filter(kind__startswith="federation.").values_list("kind", flat=True)
    )
    assert sorted(kinds) == [
        "federation.assessed",
        "federation.police_referral",
        "federation.queued",
        "federation.removed",
    ]
    assert page.removed_at == removed and page.state == UrlState.REMOVED
    assert OutgoingForward.objects.get(reported_url=page).progress["removed"] == removed.isoformat()


def test_our_progress_on_a_forwarded_url_is_queued_for_the_peer_when_it_moves(
    client: Client, hotline_b: Organisation, peer_de: Peer, analyst_nl: User
) -> None:
    forward = {
        "id": "forward-0001",
        "type": "forward",
        "body": {"reference": "DE-REF-1", "url": "http://hosted-nl.test/p", "to_country": "NL"},
    }
    assert post_signed(client, INBOX, forward).status_code == 200
    incoming = IncomingForward.objects.get()
    assert do_report_progress(incoming) is False  # nothing happened yet
    url = incoming.reported_url
    do_finish_url(url, analyst_nl, site_type="image_host", verdict="not_illegal")
    assert do_report_progress(incoming) is True
    message = OutboxMessage.objects.get(peer=peer_de, type="status")
    assert message.body["reference"] == "DE-REF-1"
    assert set(message.body["events"]) == {"assessed"}
    assert do_report_progress(incoming) is False
    assert OutboxMessage.objects.filter(type="status").count() == 1


def test_deconfliction_answers_only_the_urls_we_hold_and_keeps_no_other_tag(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    held = do_file_report(hotline_b, source="public", urls=["http://both.test/x"]).urls.get()
    ours = identity().public_bytes
    with as_installation(PEER_SECRET):
        key = pair_key(ours)
    known_tag = url_tag(key, held.normalized_url)
    unknown_tag = url_tag(key, "http://only-the-peer.test/secret")
    response = post_signed(
        client, "/federation/v1/deconfliction", {"tags": [known_tag, unknown_tag]}
    )
    assert response.status_code == 200, response.content
    assert [k["tag"] for k in response.json()["known"]] == [known_tag]
    assert not PeerUrlTag.objects.filter(tag=unknown_tag).exists()
    assert held.timeline.filter(kind="federation.held_by_peer").exists()
    bad = post_signed(client, "/federation/v1/deconfliction", {"tags": ["xyz"]})
    assert bad.status_code == 422


def test_a_peer_pulls_only_the_hash_sets_published_to_it(
    client: Client, hotline_b: Organisation, peer_de: Peer
) -> None:
    shared = do_create_set("Shared", owner=hotline_b)
    private = do_create_set("Private", owner=hotline_b)
    for hash_set, n in ((shared, "1"), (shared, "2"), (private, "3")):
        HashEntry.objects.create(hash_set=hash_set, key=f"sha256:{n * 64}", sha256=n * 64)
    do_publish(peer_de, shared)
    listed = get_signed(client, "/federation/v1/hashsets").json()["sets"]
    assert [s["code"] for s in listed] == [shared.code]
    first_id = shared.entries.order_by("pk").first().pk  # type: ignore[union-attr]
    changes = get_signed(client, f"/federation/v1/hashsets/{shared.code}/changes?since={first_id}")
    assert changes.status_code == 200
    data: dict[str, Any] = changes.json()
    assert data["count"] == 1 and "2" * 64 in data["vics"] and "1" * 64 not in data["vics"]
    refused = get_signed(client, f"/federation/v1/hashsets/{private.code}/changes?since=0")
    assert refused.status_code == 403


def test_an_entry_removed_at_the_publisher_is_removed_at_the_subscriber_through_the_log(
    hotline_a: Organisation, hotline_b: Organisation, peer_de: Peer
) -> None:
    # Both halves in one database, joined over loopback: hotline B publishes (its
    # answers are computed by the publisher's code), hotline A subscribes and pulls.
    published = do_create_set("Shared", owner=hotline_b)
    keep, gone = (
        HashEntry.objects.create(hash_set=published, key=f"sha256:{n * 64}", sha256=n * 64)
        for n in ("1", "2")
    )
    do_publish(peer_de, published)
    subscription = do_subscribe(peer_de, published.code, hotline_a)
    local = subscription.hash_set
    with fake_peer() as remote:
        Peer.objects.filter(pk=peer_de.pk).update(base_url=remote.url)
        subscription = Subscription.objects.select_related("peer").get()
        remote.get_answers.append({"ok": True, **set_changes(peer_de, published.code, 0, 0)})
        assert do_pull(subscription) == 2
        assert set(local.entries.values_list("key", flat=True)) == {keep.key, gone.key}
        local_gone = local.entries.get(key=gone.key).pk

        # The publisher removes one entry, as matching does: deleted and logged at once.
        with transaction.atomic():
            gone_id = gone.pk
            gone.delete()
            log_removed([gone_id])
        changes = set_changes(
            peer_de, published.code, subscription.serial, subscription.removed_serial
        )
        assert changes["removed"] == [gone.key] and changes["count"] == 0
        remote.get_answers.append({"ok": True, **changes})
        assert do_pull(subscription) == 0
        assert "removed_since=0" in remote.get_paths[-1]
    assert list(local.entries.values_list("key", flat=True)) == [keep.key]
    # Logged for the subscriber's PDQ index, and audited.
    assert IndexChange.objects.filter(op=IndexChange.REMOVED, entry_id=local_gone).exists()
    event = AuditEvent.objects.get(action="federation.hash_entries_removed")
    assert event.detail["removed"] == 1
    subscription.refresh_from_db()
    assert subscription.removed_serial == changes["removed_serial"] > 0
    # Asked again from there, nothing more is removed.
    again = set_changes(peer_de, published.code, subscription.serial, subscription.removed_serial)
    assert again["removed"] == []


def test_a_key_removed_and_added_back_stays_at_the_subscriber(
    hotline_b: Organisation, peer_de: Peer
) -> None:
    published = do_create_set("Shared", owner=hotline_b)
    entry = HashEntry.objects.create(hash_set=published, key=f"sha256:{'3' * 64}", sha256="3" * 64)
    do_publish(peer_de, published)
    first = set_changes(peer_de, published.code, 0, 0)
    assert first["count"] == 1 and first["removed"] == []
    with transaction.atomic():
        old = entry.pk
        entry.delete()
        log_removed([old])
    HashEntry.objects.create(hash_set=published, key=f"sha256:{'3' * 64}", sha256="3" * 64)
    later = set_changes(peer_de, published.code, first["serial"], first["removed_serial"])
    assert later["removed"] == [] and later["count"] == 1


def test_our_verdict_is_pushed_to_the_peer_when_it_takes_effect(
    client: Client,
    hotline_b: Organisation,
    peer_de: Peer,
    analyst_nl: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    forward = {
        "id": "forward-0002",
        "type": "forward",
        "body": {"reference": "DE-REF-2", "url": "http://hosted-nl.test/q", "to_country": "NL"},
    }
    assert post_signed(client, INBOX, forward).status_code == 200
    url = IncomingForward.objects.get().reported_url
    with django_capture_on_commit_callbacks(execute=True):
        do_finish_url(url, analyst_nl, site_type="image_host", verdict="not_illegal")
    # No poll ran: the verdict's own event queued the status.
    message = OutboxMessage.objects.get(peer=peer_de, type="status")
    assert message.body["reference"] == "DE-REF-2" and set(message.body["events"]) == {"assessed"}
