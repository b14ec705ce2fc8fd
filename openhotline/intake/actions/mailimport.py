"""Importing one e-mail message as a report, exactly once.

The raw message is kept as evidence in an encrypted blob store
(``OPENHOTLINE_INTAKE_MAIL_DIR``, keys derived from ``OPENHOTLINE_INTAKE_KEY``)
and named on its ``ImportedMessage`` row. That row is written in the
transaction that files the report, keyed by the Message-ID, so a message
delivered or fetched twice (after a crash, say) is recognised and skipped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from openhotline.intake.destination import mail_hotline
from openhotline.intake.keys import mail_keyring
from openhotline.intake.mailparse import ParsedMail, parse_message, sender_allowed
from openhotline.intake.models import ImportedMessage, MailOutcome
from openhotline.lib.blobstore import BlobStore
from openhotline.lib.urlnorm import UrlError, normalize_url
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import Report, ReportSource

logger = logging.getLogger(__name__)


class MailConfigError(Exception):
    """E-mail intake is not set up well enough to take a message in."""


@dataclass(frozen=True)
class ImportResult:
    outcome: str
    report: Report | None = None
    duplicate: bool = False


def mail_store() -> BlobStore:
    root = Path(settings.OPENHOTLINE_INTAKE_MAIL_DIR)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return BlobStore(root, mail_keyring())


def message_key(message_id: str, raw: bytes) -> str:
    """The identity of a message: its Message-ID, or its bytes when it has none."""
    basis = f"message-id:{message_id}".encode() if message_id else b"raw:" + raw
    return hashlib.sha256(basis).hexdigest()


def known(key: str) -> ImportResult | None:
    found = ImportedMessage.objects.select_related("report").filter(message_key=key).first()
    if found is None:
        return None
    return ImportResult(found.outcome, found.report, duplicate=True)


def do_record_oversized(key: str, *, mailbox: str, uid: str, size: int) -> ImportResult:
    """Note a message too large to import, so it is not fetched again and again."""
    previous = known(key)
    if previous is not None:
        return previous
    try:
        with transaction.atomic():
            ImportedMessage.objects.create(
                message_key=key, mailbox=mailbox, uid=uid, outcome=MailOutcome.TOO_LARGE, size=size
            )
    except IntegrityError:
        return known(key) or ImportResult(MailOutcome.TOO_LARGE, duplicate=True)
    logger.warning("e-mail report of %d bytes refused: larger than the limit", size)
    return ImportResult(MailOutcome.TOO_LARGE)


def do_import_message(raw: bytes, *, mailbox: str, uid: str = "") -> ImportResult:
    """Import one message; see the module docstring.

    1. Refuse a message over ``OPENHOTLINE_INTAKE_MAIL_MAX_BYTES``.
    2. Recognise a message imported before (by its key) and stop.
    3. Refuse senders not on the allow-list (noted, so not retried).
    4. Store the raw message as evidence, then file the report and note the
       message in one transaction.
    """
    hotline = mail_hotline()
    if hotline is None:
        raise MailConfigError(
            "no hotline receives e-mail reports: set OPENHOTLINE_INTAKE_MAIL_HOTLINE "
            "(or OPENHOTLINE_PUBLIC_HOTLINE) to a hotline's slug"
        )
    if len(raw) > settings.OPENHOTLINE_INTAKE_MAIL_MAX_BYTES:
        key = message_key("", raw)
        return do_record_oversized(key, mailbox=mailbox, uid=uid, size=len(raw))
    parsed = parse_message(raw)
    key = message_key(parsed.message_id, raw)
    previous = known(key)
    if previous is not None:
        return previous
    if not sender_allowed(parsed.sender, settings.OPENHOTLINE_INTAKE_MAIL_ALLOWED_SENDERS):
        domain = parsed.sender.rsplit("@", 1)[-1] if "@" in parsed.sender else "?"
        logger.info("e-mail report refused: sender at %s is not on the allow-list", domain)
        return _note(key, mailbox, uid, MailOutcome.REFUSED_SENDER, size=len(raw))
    urls, notes = _usable_urls(parsed)
    if not urls and not parsed.text and not parsed.subject:
        return _note(key, mailbox, uid, MailOutcome.EMPTY, size=len(raw))
    blob = mail_store().put(raw)
    try:
        with transaction.atomic():
            report = do_file_report(
                hotline,
                source=ReportSource.EMAIL,
                urls=urls,
                description=_description(parsed),
                where_found="E-mail report",
                comment="\n".join(notes),
                external_ref=parsed.message_id[:200],
            )
            ImportedMessage.objects.create(
                message_key=key,
                mailbox=mailbox[:300],
                uid=uid[:60],
                outcome=MailOutcome.IMPORTED,
                report=report,
                blob_name=blob.name,
                blob_sha256=blob.sha256,
                size=len(raw),
            )
    except IntegrityError:
        # Imported meanwhile by another process: its report stands, ours rolled back.
        return known(key) or ImportResult(MailOutcome.IMPORTED, duplicate=True)
    return ImportResult(MailOutcome.IMPORTED, report)


def _note(key: str, mailbox: str, uid: str, outcome: str, *, size: int) -> ImportResult:
    try:
        with transaction.atomic():
            ImportedMessage.objects.create(
                message_key=key, mailbox=mailbox[:300], uid=uid[:60], outcome=outcome, size=size
            )
    except IntegrityError:
        return known(key) or ImportResult(outcome, duplicate=True)
    return ImportResult(outcome)


def _usable_urls(parsed: ParsedMail) -> tuple[list[str], list[str]]:
    """The URLs the hotline accepts (up to the limit), and notes on those left out."""
    urls: list[str] = []
    rejected = 0
    for raw in parsed.urls:
        try:
            url = normalize_url(raw, max_length=settings.OPENHOTLINE_INTAKE_MAX_URL_LENGTH)
        except UrlError:
            rejected += 1
            continue
        if url not in urls:
            urls.append(url)
    notes = []
    maximum = settings.OPENHOTLINE_INTAKE_MAX_URLS
    if len(urls) > maximum:
        notes.append(f"{len(urls) - maximum} more URLs in the message were not imported.")
        urls = urls[:maximum]
    if rejected:
        notes.append(f"{rejected} addresses in the message were not valid URLs.")
    return urls, notes


def _description(parsed: ParsedMail) -> str:
    header = f"Subject: {parsed.subject}\nFrom: {parsed.sender}"
    return f"{header}\n\n{parsed.text}".strip()[:10_000]
