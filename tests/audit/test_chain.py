from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

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


def make_events(n: int) -> list[AuditEvent]:
    return [
        record("test.event", object_type="thing", object_id=str(i), detail={"i": i})
        for i in range(n)
    ]


def test_each_event_links_to_the_previous_one() -> None:
    events = make_events(3)
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert verify() == (0, "audit log intact: 3 events verified\n")


def test_an_edited_event_is_reported_with_its_number() -> None:
    events = make_events(5)
    AuditEvent.objects.filter(pk=events[2].pk).update(detail={"i": 99})
    code, message = verify()
    assert code == 1
    assert f"#{events[2].seq}" in message and "edited" in message


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
    AuditEvent.objects.filter(pk=forged.pk).update(detail=forged.detail, hash=forged.compute_hash())
    code, message = verify()
    assert code == 1 and f"#{events[1].seq}" in message


def test_events_cannot_be_changed_through_the_model() -> None:
    event = make_events(1)[0]
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
