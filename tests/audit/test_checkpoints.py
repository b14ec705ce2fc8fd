from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.audit.models import AuditChainHead, AuditEvent
from openhotline.audit.tasks import write_checkpoint

pytestmark = pytest.mark.django_db


def audit(*args: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), err.getvalue()
    return 0, out.getvalue()


def make_events(n: int, **kwargs: object) -> list[AuditEvent]:
    return [
        record("test.event", object_type="thing", object_id=str(i), detail={"i": i}, **kwargs)  # type: ignore[arg-type]
        for i in range(n)
    ]


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "audit-checkpoints.jsonl"
    with override_settings(OPENHOTLINE_AUDIT_CHECKPOINT_FILE=str(path)):
        yield path


def cut_tail_and_move_head(keep: int) -> None:
    """Delete every event after #keep and point the head at #keep, as a careful attacker would."""
    AuditEvent.objects.filter(seq__gt=keep).delete()
    last = AuditEvent.objects.get(seq=keep)
    AuditChainHead.objects.filter(pk=1).update(last_seq=keep, last_hash=last.hash)


def test_checkpoint_command_appends_one_signed_line(sink: Path) -> None:
    events = make_events(3)
    code, out = audit("checkpoint")
    assert code == 0 and "checkpoint: 3 events" in out
    make_events(1)
    assert audit("checkpoint")[0] == 0
    lines = sink.read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["count"] == 3 and first["head"] == events[-1].hash and first["sig"]
    assert json.loads(lines[1])["count"] == 4
    assert stat.S_IMODE(sink.stat().st_mode) == 0o600


def test_the_scheduled_task_writes_to_the_configured_file(sink: Path) -> None:
    make_events(2)
    assert settings.CELERY_BEAT_SCHEDULE["audit-write-checkpoint"]["task"] == write_checkpoint.name
    assert write_checkpoint.apply().get() == 2
    assert json.loads(sink.read_text())["count"] == 2


def test_checkpoint_without_a_sink_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="OPENHOTLINE_AUDIT_CHECKPOINT_FILE"):
        call_command("audit", "checkpoint", stdout=StringIO())


def test_an_intact_log_matches_its_checkpoints(sink: Path) -> None:
    make_events(3)
    audit("checkpoint")
    make_events(2)
    audit("checkpoint")
    assert audit("verify", "--checkpoints", str(sink)) == (
        0,
        "audit log intact: 5 events verified, 2 checkpoints matched\n",
    )


def test_truncation_below_a_checkpoint_is_detected(sink: Path) -> None:
    make_events(6)
    audit("checkpoint")
    cut_tail_and_move_head(keep=3)
    assert audit("verify", "--checkpoints", "/dev/null")[0] == 0  # the chain alone cannot tell
    code, message = audit("verify", "--checkpoints", str(sink))
    assert code == 1
    assert message.startswith("audit log broken at event #4: log truncated: the checkpoint of ")
    assert "counts 6 events, the log has 3" in message
    assert message.count("\n") == 1


def test_deleting_the_last_event_and_moving_the_head_back_is_detected(sink: Path) -> None:
    make_events(4)
    audit("checkpoint")
    cut_tail_and_move_head(keep=3)
    code, message = audit("verify")  # the configured file is the default
    assert code == 1 and "counts 4 events, the log has 3" in message


def test_deleting_the_last_event_and_writing_a_new_one_in_its_place_is_detected(
    sink: Path,
) -> None:
    make_events(4)
    audit("checkpoint")
    cut_tail_and_move_head(keep=3)
    make_events(1)  # a genuine, keyed event #4, but not the one the checkpoint saw
    code, message = audit("verify")
    assert code == 1
    assert message.startswith("audit log broken at event #4: differs from the checkpoint of ")


def test_deleting_a_middle_event_is_detected(sink: Path) -> None:
    make_events(5)
    audit("checkpoint")
    AuditEvent.objects.filter(seq=2).delete()
    code, message = audit("verify")
    assert (code, message) == (1, "audit log broken at event #2: event #2 is missing\n")


def test_rewriting_below_a_checkpoint_with_the_key_is_still_detected(sink: Path) -> None:
    # Even someone holding the event key cannot match a checkpoint they cannot sign.
    make_events(4)
    audit("checkpoint")
    AuditEvent.objects.filter(seq__gte=3).delete()
    AuditChainHead.objects.filter(pk=1).update(
        last_seq=2, last_hash=AuditEvent.objects.get(seq=2).hash
    )
    record("test.event", object_type="thing", object_id="forged", detail={"i": "forged"})
    record("test.event", object_type="thing", object_id="forged", detail={"i": "forged"})
    assert audit("verify", "--checkpoints", "/dev/null")[0] == 0
    code, message = audit("verify")
    assert code == 1 and "event #3" not in message and "event #4: differs" in message


def test_changed_actor_or_organisation_is_detected_with_checkpoints(
    sink: Path, hotline_a: Organisation, hotline_b: Organisation, analyst: User, outsider: User
) -> None:
    make_events(3, actor=analyst, organisation=hotline_a)
    audit("checkpoint")
    AuditEvent.objects.filter(seq=2).update(actor=outsider, organisation=hotline_b)
    code, message = audit("verify")
    assert (code, message) == (
        1,
        "audit log broken at event #2: content does not match its keyed hash (edited)\n",
    )


def test_an_altered_checkpoint_line_is_refused(sink: Path) -> None:
    make_events(3)
    audit("checkpoint")
    line = json.loads(sink.read_text())
    line["count"] = 2
    line["head"] = AuditEvent.objects.get(seq=2).hash
    sink.write_text(json.dumps(line) + "\n")
    code, message = audit("verify")
    assert code == 1 and "line 1 has a bad signature" in message


def test_a_checkpoint_signed_with_another_key_is_refused(sink: Path) -> None:
    make_events(1)
    with override_settings(OPENHOTLINE_AUDIT_CHECKPOINT_KEY="not the operator's key"):
        audit("checkpoint")
    code, message = audit("verify")
    assert code == 1 and "line 1 is signed with unknown key" in message


def test_a_missing_checkpoint_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read checkpoints .*nope"):
        call_command("audit", "verify", "--checkpoints", str(tmp_path / "nope"), stdout=StringIO())


def test_checkpoints_are_appended_even_to_an_append_only_descriptor(sink: Path) -> None:
    # Someone else holding the file open for appending does not make lines overwrite.
    make_events(1)
    fd = os.open(sink, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, b"unrelated line\n")
    audit("checkpoint")
    os.write(fd, b"another line\n")
    os.close(fd)
    assert sink.read_text().splitlines()[0] == "unrelated line"
    assert audit("verify")[0] == 0


def test_checkpoints_go_to_syslog_and_a_syslog_export_verifies(tmp_path: Path) -> None:
    make_events(2)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    with override_settings(OPENHOTLINE_AUDIT_CHECKPOINT_SYSLOG=f"127.0.0.1:{port}"):
        code, out = audit("checkpoint")
    assert code == 0 and f"syslog 127.0.0.1:{port}" in out
    datagram = receiver.recv(65536).decode()
    receiver.close()
    assert datagram.startswith("<") and "openhotline-audit-checkpoint: {" in datagram
    export = tmp_path / "syslog"
    export.write_text("Dec  4 12:00:00 host other: hello\n" + datagram.rstrip("\x00") + "\n")
    assert audit("verify", "--checkpoints", str(export)) == (
        0,
        "audit log intact: 2 events verified, 1 checkpoints matched\n",
    )
    cut_tail_and_move_head(keep=1)
    assert audit("verify", "--checkpoints", str(export))[0] == 1


def test_public_key_command_prints_the_key_id() -> None:
    code, out = audit("public-key")
    key_id, kind, public = out.split()
    assert (
        code == 0 and kind == "ed25519" and len(bytes.fromhex(public)) == 32 and len(key_id) == 16
    )


def test_verify_before_the_first_scheduled_checkpoint_checks_the_chain(sink: Path) -> None:
    make_events(2)
    assert not sink.exists()
    assert audit("verify") == (0, "audit log intact: 2 events verified\n")
