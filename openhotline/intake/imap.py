"""Polling an IMAP mailbox (over TLS) for e-mail reports.

Each unread message is fetched without marking it (``BODY.PEEK``), imported
(its ``ImportedMessage`` row committed with the report), and only then
flagged ``\\Seen``. A crash between the two leaves the message unread; the
next poll finds its row, skips the import and flags it. So no message is
imported twice and none is lost. The mailbox should be one that nobody
reads in a mail client, or read messages would be skipped.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import imaplib
import re
import ssl
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from openhotline.intake.actions.mailimport import (
    ImportResult,
    do_import_message,
    do_record_oversized,
    message_key,
)
from openhotline.intake.models import MailOutcome

_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(Exception):
    """The mailbox could not be read; the message says why."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    mailbox: str = "INBOX"
    ca_file: str = ""
    timeout: float = 60.0

    @classmethod
    def from_settings(cls) -> ImapConfig:
        if not settings.OPENHOTLINE_INTAKE_IMAP_HOST:
            raise ImapError("OPENHOTLINE_INTAKE_IMAP_HOST is not set")
        return cls(
            host=settings.OPENHOTLINE_INTAKE_IMAP_HOST,
            port=settings.OPENHOTLINE_INTAKE_IMAP_PORT,
            user=settings.OPENHOTLINE_INTAKE_IMAP_USER,
            password=settings.OPENHOTLINE_INTAKE_IMAP_PASSWORD,
            mailbox=settings.OPENHOTLINE_INTAKE_IMAP_MAILBOX,
            ca_file=settings.OPENHOTLINE_INTAKE_IMAP_CA_FILE,
        )

    def label(self) -> str:
        return f"imap://{self.user}@{self.host}:{self.port}/{self.mailbox}"


@dataclass
class PollResult:
    outcomes: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0

    def add(self, result: ImportResult) -> None:
        if result.duplicate:
            self.duplicates += 1
        else:
            self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1

    def summary(self) -> str:
        parts = [f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items())]
        parts.append(f"{self.duplicates} already imported")
        return ", ".join(parts)


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """Verify the server's certificate and name, against ``ca_file`` when given."""
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def poll_mailbox(config: ImapConfig) -> PollResult:
    """Import every unread message of the mailbox once; see the module docstring."""
    result = PollResult()
    try:
        with imaplib.IMAP4_SSL(
            config.host,
            config.port,
            ssl_context=tls_context(config.ca_file),
            timeout=config.timeout,
        ) as imap:
            imap.login(config.user, config.password)
            _check(imap.select(_quoted(config.mailbox)), f"cannot open mailbox {config.mailbox}")
            validity = _uidvalidity(imap)
            status, data = imap.uid("SEARCH", "UNSEEN")
            _check((status, data), "cannot search the mailbox")
            for uid in (data[0] or b"").split():
                result.add(_import_one(imap, config, uid.decode(), validity))
                flag_seen(imap, uid.decode())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"{config.label()}: {exc}") from exc
    return result


def flag_seen(imap: imaplib.IMAP4, uid: str) -> None:
    _check(imap.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen)"), f"cannot flag message {uid}")


def _import_one(imap: imaplib.IMAP4, config: ImapConfig, uid: str, validity: str) -> ImportResult:
    where = f"{validity}:{uid}"
    status, data = imap.uid("FETCH", uid, "(RFC822.SIZE)")
    _check((status, data), f"cannot fetch message {uid}")
    match = _SIZE_RE.search(b" ".join(_flatten(data)))
    size = int(match.group(1)) if match else 0
    if size > settings.OPENHOTLINE_INTAKE_MAIL_MAX_BYTES:
        key = _oversized_key(imap, config, uid, where)
        return do_record_oversized(key, mailbox=config.label(), uid=where, size=size)
    status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    _check((status, data), f"cannot fetch message {uid}")
    raw = next((part[1] for part in data if isinstance(part, tuple)), None)
    if raw is None:
        raise ImapError(f"{config.label()}: message {uid} came back without a body")
    return do_import_message(raw, mailbox=config.label(), uid=where)


def _oversized_key(imap: imaplib.IMAP4, config: ImapConfig, uid: str, where: str) -> str:
    status, data = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    _check((status, data), f"cannot fetch message {uid}")
    header = next((part[1] for part in data if isinstance(part, tuple)), b"")
    message_id = str(
        email.message_from_bytes(header, policy=email.policy.default).get("Message-ID", "")
    ).strip()
    if message_id:
        return message_key(message_id, b"")
    return hashlib.sha256(f"{MailOutcome.TOO_LARGE}:{config.label()}/{where}".encode()).hexdigest()


def _uidvalidity(imap: imaplib.IMAP4) -> str:
    _status, data = imap.response("UIDVALIDITY")
    value = data[-1] if data and data[-1] else b"0"
    return value.decode() if isinstance(value, bytes) else str(value)


def _flatten(data: list[Any]) -> list[bytes]:
    out: list[bytes] = []
    for item in data:
        if isinstance(item, tuple):
            out += [x for x in item if isinstance(x, bytes)]
        elif isinstance(item, bytes):
            out.append(item)
    return out


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(reply: tuple[str, Any], message: str) -> None:
    status, data = reply
    if status != "OK":
        detail = b" ".join(_flatten(list(data or []))).decode("utf-8", "replace")
        raise ImapError(f"{message}: {detail}")
