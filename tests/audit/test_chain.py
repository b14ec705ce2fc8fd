from __future__ import annotations

import hashlib
import hmac
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import ProtectedError
from django.test import override_settings

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.audit.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def verify() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), err.getvalue()
    return 0, out.getvalue()


def make_events(n: int, **kwargs: object) -> list[AuditEvent]:
    return [
        record("test.event", object_type="thing", object_id=str(i), detail={"i": i}, **kwargs)  # type: ignore[arg-type]
        for i in range(n)
    ]


def rewrite_from(seq: int, secret: bytes, **changes: object) -> None:
    """What someone with the code and write access to the database, but not the key, can do.

    Change event ``seq``, then recompute its hash and every later hash and
    link with ``secret`` (their best guess at the key), and move the head.
    """
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            for field, value in changes.items():
                setattr(event, field, value)
        event.prev_hash = prev
        new_hash = hmac.new(secret, event.canonical(), hashlib.sha256).hexdigest()
        AuditEvent.objects.filter(pk=event.pk).update(
            **changes if event.seq == seq else {}, prev_hash=prev, hash=new_hash
        )
        prev = new_hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)


def test_each_event_links_to_the_previous_one() -> None:
    events = make_events(3)
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert verify() == (0, "audit log intact: 3 events verified\n")


def test_events_are_keyed_with_the_audit_key() -> None:
    event = make_events(1)[0]
    assert event.key_id
    assert event.hash != hashlib.sha256(event.canonical()).hexdigest()
    with override_settings(OPENHOTLINE_AUDIT_KEY="another key"):
        code, message = verify()
    assert code == 1 and "unknown key" in message


def test_an_edited_event_is_reported_with_its_number() -> None:
    events = make_events(5)
    AuditEvent.objects.filter(pk=events[2].pk).update(detail={"i": 99})
    code, message = verify()
    assert code == 1
    reason = "content does not match its keyed hash (edited)"
    assert message == f"audit log broken at event #{events[2].seq}: {reason}\n"


def test_an_edit_with_every_later_hash_recomputed_without_the_key_is_detected() -> None:
    events = make_events(5)
    rewrite_from(events[1].seq, b"a guess at the key", detail={"i": "forged"})
    code, message = verify()
    assert code == 1
    assert f"event #{events[1].seq}: content does not match its keyed hash" in message


def test_an_edit_recomputed_as_unkeyed_sha256_is_detected() -> None:
    # The scheme of the old code: plain SHA-256 with the key id left empty.
    events = make_events(4)
    prev = events[1].hash
    for event in AuditEvent.objects.filter(seq__gte=events[2].seq).order_by("seq"):
        event.detail = {"i": "forged"}
        event.prev_hash = prev
        event.key_id = ""
        new_hash = event.compute_legacy_hash()
        AuditEvent.objects.filter(pk=event.pk).update(
            detail=event.detail, prev_hash=prev, key_id="", hash=new_hash
        )
        prev = new_hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)
    code, message = verify()
    assert code == 1 and "the last 2 events are not keyed" in message


def test_a_changed_actor_is_detected(hotline_a: Organisation, analyst: User, admin: User) -> None:
    events = make_events(3, actor=analyst, organisation=hotline_a)
    AuditEvent.objects.filter(pk=events[1].pk).update(actor=admin)
    code, message = verify()
    assert code == 1 and f"event #{events[1].seq}: content does not match" in message


def test_a_changed_actor_name_is_detected(hotline_a: Organisation, analyst: User) -> None:
    events = make_events(3, actor=analyst, organisation=hotline_a)
    AuditEvent.objects.filter(pk=events[2].pk).update(actor_label="adam")
    code, message = verify()
    assert code == 1 and f"event #{events[2].seq}: content does not match" in message


def test_a_changed_organisation_is_detected(
    hotline_a: Organisation, hotline_b: Organisation, analyst: User
) -> None:
    events = make_events(3, actor=analyst, organisation=hotline_a)
    AuditEvent.objects.filter(pk=events[0].pk).update(organisation=hotline_b)
    code, message = verify()
    assert code == 1 and f"event #{events[0].seq}: content does not match" in message
    AuditEvent.objects.filter(pk=events[0].pk).update(
        organisation=hotline_a, organisation_label="Hotline B"
    )
    code, message = verify()
    assert code == 1 and f"event #{events[0].seq}: content does not match" in message


def test_a_changed_actor_recomputed_without_the_key_is_detected(
    hotline_a: Organisation, analyst: User, admin: User
) -> None:
    events = make_events(3, actor=analyst, organisation=hotline_a)
    rewrite_from(events[0].seq, b"guess", actor_id=admin.pk, actor_label="adam")
    code, message = verify()
    assert code == 1 and f"event #{events[0].seq}: content does not match" in message


def test_an_actor_with_events_cannot_be_deleted(hotline_a: Organisation, analyst: User) -> None:
    make_events(1, actor=analyst, organisation=hotline_a)
    with pytest.raises(ProtectedError):
        analyst.delete()


def test_a_deleted_event_breaks_the_chain() -> None:
    events = make_events(4)
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    code, message = verify()
    assert code == 1 and f"#{events[1].seq} is missing" in message


def test_a_removed_tail_is_detected_through_the_chain_head() -> None:
    events = make_events(3)
    AuditEvent.objects.filter(pk=events[-1].pk).delete()
    code, message = verify()
    assert code == 1 and "removed" in message
    assert AuditChainHead.objects.get().last_seq == events[-1].seq


def test_a_recomputed_forgery_still_breaks_the_next_link() -> None:
    events = make_events(3)
    forged = AuditEvent.objects.get(pk=events[0].pk)
    forged.detail = {"i": "forged"}
    AuditEvent.objects.filter(pk=forged.pk).update(
        detail=forged.detail, hash=forged.compute_hash(b"guess")
    )
    code, message = verify()
    assert code == 1 and f"#{events[0].seq}" in message


def test_events_cannot_be_changed_through_the_model() -> None:
    event = make_events(1)[0]
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
