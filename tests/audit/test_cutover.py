"""Installs from before keying: migration 0003 closes their unkeyed events."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from openhotline.audit.log import record
from openhotline.audit.models import CHAIN_KEYED_ACTION, GENESIS_HASH, AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db

cutover = importlib.import_module("openhotline.audit.migrations.0003_close_unkeyed_events")


def verify() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), err.getvalue()
    return 0, out.getvalue()


def old_events(n: int) -> None:
    """Events as the code before keying wrote them: plain SHA-256, no key id."""
    prev = GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, n + 1):
        event = AuditEvent(
            seq=seq,
            created_at=start + timedelta(minutes=seq),
            actor_label="alice",
            organisation_label="Hotline A",
            action="old.event",
            detail={"i": seq},
            prev_hash=prev,
        )
        event.hash = event.compute_legacy_hash()
        event.save()
        prev = event.hash
    AuditChainHead.objects.update_or_create(pk=1, defaults={"last_seq": n, "last_hash": prev})


def test_the_cutover_closes_old_events_with_a_keyed_marker() -> None:
    old_events(3)
    assert verify() == (1, "audit log broken at event #3: the last 3 events are not keyed\n")
    cutover.close_unkeyed(apps, None)
    marker = AuditEvent.objects.get(seq=4)
    assert marker.action == CHAIN_KEYED_ACTION and marker.key_id
    assert marker.detail == {"unkeyed_events": 3, "unkeyed_head": marker.prev_hash}
    record("new.event")
    assert verify() == (0, "audit log intact: 5 events verified\n")
    cutover.close_unkeyed(apps, None)  # running it again adds nothing
    assert AuditEvent.objects.count() == 5


def test_an_old_event_rewritten_with_sha256_after_the_cutover_is_detected() -> None:
    old_events(3)
    cutover.close_unkeyed(apps, None)
    prev = AuditEvent.objects.get(seq=1).hash
    for event in AuditEvent.objects.filter(seq__in=[2, 3]).order_by("seq"):
        event.detail = {"i": "forged"} if event.seq == 2 else event.detail
        event.prev_hash = prev
        new_hash = event.compute_legacy_hash()
        AuditEvent.objects.filter(pk=event.pk).update(
            detail=event.detail, prev_hash=prev, hash=new_hash
        )
        prev = new_hash
    assert verify() == (1, "audit log broken at event #4: does not link to the event before it\n")
    AuditEvent.objects.filter(seq=4).update(prev_hash=prev)
    code, message = verify()
    assert code == 1 and "event #4: content does not match its keyed hash" in message


def test_a_new_install_gets_no_marker_and_reverse_removes_it() -> None:
    cutover.close_unkeyed(apps, None)
    assert not AuditEvent.objects.exists()
    old_events(2)
    cutover.close_unkeyed(apps, None)
    cutover.reopen_unkeyed(apps, None)
    assert AuditEvent.objects.count() == 2
    head = AuditChainHead.objects.get()
    assert head.last_seq == 2 and head.last_hash == AuditEvent.objects.get(seq=2).hash
