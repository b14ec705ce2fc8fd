"""Signed checkpoints of the audit chain, written outside the database.

A checkpoint says "at this time the chain had COUNT events and its last
hash was HEAD", signed with the Ed25519 checkpoint key. It goes to an
append-only sink that the operator sets: a file opened with ``O_APPEND``
(``OPENHOTLINE_AUDIT_CHECKPOINT_FILE``, one JSON line each) and/or syslog
(``OPENHOTLINE_AUDIT_CHECKPOINT_SYSLOG``). Someone who can rewrite the
database cannot rewrite these, so a chain cut short or rebuilt below a
checkpoint no longer matches it.
"""

from __future__ import annotations

import base64
import json
import logging
import logging.handlers
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.utils import timezone

from openhotline.audit.keys import CheckpointKey, checkpoint_key
from openhotline.audit.models import GENESIS_HASH, AuditChainHead

# The marker key of a checkpoint line; syslog collectors prefix lines with their
# own fields, so a reader looks for the JSON object that carries it.
MARKER = "openhotline_audit_checkpoint"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head: str
    at: str
    key_id: str
    line: int = 0

    def signed_body(self) -> bytes:
        body = {MARKER: FORMAT_VERSION, "count": self.count, "head": self.head, "at": self.at}
        body["key_id"] = self.key_id
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


class CheckpointError(Exception):
    """A checkpoint line that is malformed or not signed by the checkpoint key."""


def current(key: CheckpointKey | None = None) -> Checkpoint:
    """The chain's count and head now, as a checkpoint (not yet signed)."""
    key = key or checkpoint_key()
    head = AuditChainHead.objects.filter(pk=1).first()
    count, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    return Checkpoint(count, last_hash, timezone.now().isoformat(), key.key_id)


def to_line(checkpoint: Checkpoint, key: CheckpointKey | None = None) -> str:
    key = key or checkpoint_key()
    signature = key.private.sign(checkpoint.signed_body())
    body: dict[str, Any] = json.loads(checkpoint.signed_body())
    body["sig"] = base64.b64encode(signature).decode()
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def write_checkpoint() -> tuple[Checkpoint, list[str]]:
    """Sign the chain's state now and write it to every configured sink.

    Returns the checkpoint and the sinks written (empty when none is set).
    """
    key = checkpoint_key()
    checkpoint = current(key)
    line = to_line(checkpoint, key)
    sinks: list[str] = []
    path = settings.OPENHOTLINE_AUDIT_CHECKPOINT_FILE
    if path:
        append_line(Path(path), line)
        sinks.append(str(path))
    address = settings.OPENHOTLINE_AUDIT_CHECKPOINT_SYSLOG
    if address:
        send_syslog(address, line)
        sinks.append(f"syslog {address}")
    return checkpoint, sinks


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write on an O_APPEND descriptor, then fsync.

    O_APPEND makes concurrent writers (two beats by mistake, a manual
    `audit checkpoint`) land whole lines one after the other, and lets the
    operator make the file append-only (``chattr +a``) without breaking us.
    """
    data = (line + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write to {path}: {written} of {len(data)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)


def send_syslog(address: str, line: str) -> None:
    """Send one line to syslog: a socket path (``/dev/log``) or ``host:port`` over UDP."""
    target: str | tuple[str, int]
    if address.startswith("/"):
        target = address
    else:
        host, _, port = address.rpartition(":")
        target = (host.strip("[]") or "localhost", int(port or 514))
    handler = logging.handlers.SysLogHandler(
        address=target,
        facility=logging.handlers.SysLogHandler.LOG_AUTH,
        socktype=socket.SOCK_DGRAM,
    )
    try:
        record = logging.LogRecord(
            "openhotline.audit",
            logging.WARNING,
            __file__,
            0,
            "openhotline-audit-checkpoint: %s",
            (line,),
            None,
        )
        handler.emit(record)
    finally:
        handler.close()


def parse_line(text: str, number: int, key: CheckpointKey | None = None) -> Checkpoint | None:
    """One line of a checkpoint file or syslog export: a verified checkpoint, or None.

    Lines that are not checkpoints (other syslog messages) give None; a line
    that is a checkpoint but is malformed or badly signed raises.
    """
    if MARKER not in text:
        return None
    start = text.find("{")
    try:
        body = json.loads(text[start:]) if start >= 0 else None
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
        checkpoint = Checkpoint(
            count=int(body["count"]),
            head=str(body["head"]),
            at=str(body["at"]),
            key_id=str(body["key_id"]),
            line=number,
        )
        signature = base64.b64decode(str(body["sig"]), validate=True)
        if int(body[MARKER]) != FORMAT_VERSION:
            raise ValueError(f"unknown checkpoint version {body[MARKER]!r}")
        datetime.fromisoformat(checkpoint.at)
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"line {number} is not a valid checkpoint ({exc})") from None
    key = key or checkpoint_key()
    if checkpoint.key_id != key.key_id:
        raise CheckpointError(f"line {number} is signed with unknown key {checkpoint.key_id}")
    try:
        key.public.verify(signature, checkpoint.signed_body())
    except InvalidSignature:
        raise CheckpointError(f"line {number} has a bad signature (altered or forged)") from None
    return checkpoint


def read_checkpoints(path: Path) -> Iterator[Checkpoint]:
    """Every checkpoint in a file, verified, in file order; raises at the first bad one."""
    key = checkpoint_key()
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            checkpoint = parse_line(text.strip(), number, key)
            if checkpoint is not None:
                yield checkpoint
