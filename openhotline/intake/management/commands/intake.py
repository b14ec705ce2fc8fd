"""``openhotline intake imap [--once]`` and ``openhotline intake mail < message.eml``.

``mail`` is meant for a mail server's pipe transport. Its exit status tells
the server what to do: 0 when the message was taken (imported, already
imported, or dropped for its sender), 65 (EX_DATAERR) for a message too
large, 75 (EX_TEMPFAIL, "try again later") when the database or the
configuration is not ready.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from openhotline.intake.actions.mailimport import ImportResult, MailConfigError, do_import_message
from openhotline.intake.imap import ImapConfig, ImapError, poll_mailbox
from openhotline.intake.models import MailOutcome

logger = logging.getLogger(__name__)

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Take in e-mail reports: `intake imap [--once]`, `intake mail < message.eml`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        imap = sub.add_parser("imap", help="poll the IMAP mailbox set in the settings")
        imap.add_argument("--once", action="store_true", help="poll once and stop")
        mail = sub.add_parser("mail", help="import one message from standard input")
        mail.add_argument("--file", default="-", help="read the message from a file instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "imap":
            self.imap(once=options["once"])
        else:
            self.mail(options["file"])

    def imap(self, *, once: bool) -> None:
        from django.conf import settings

        try:
            config = ImapConfig.from_settings()
        except ImapError as exc:
            raise CommandError(str(exc)) from None
        while True:
            try:
                result = poll_mailbox(config)
                self.stdout.write(f"{config.label()}: {result.summary()}")
            except (ImapError, MailConfigError) as exc:
                if once:
                    raise CommandError(str(exc)) from None
                logger.error("e-mail intake: %s; trying again later", exc)
            if once:
                return
            time.sleep(settings.OPENHOTLINE_INTAKE_IMAP_POLL_SECONDS)

    def mail(self, path: str) -> None:
        from django.conf import settings

        limit = settings.OPENHOTLINE_INTAKE_MAIL_MAX_BYTES
        # One byte over the limit is enough to know the message is too large.
        if path == "-":
            raw = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(limit + 1)
        try:
            result = do_import_message(raw, mailbox="pipe")
        except MailConfigError as exc:
            raise CommandError(str(exc), returncode=EX_TEMPFAIL) from None
        except DatabaseError as exc:
            raise CommandError(f"database not available: {exc}", returncode=EX_TEMPFAIL) from None
        self.stdout.write(describe(result))
        if result.outcome == MailOutcome.TOO_LARGE:
            raise CommandError(f"message larger than {limit} bytes", returncode=EX_DATAERR)


def describe(result: ImportResult) -> str:
    if result.duplicate:
        return "already imported" + (f" as report {result.report.code}" if result.report else "")
    if result.report is not None:
        return f"imported as report {result.report.code}"
    return str(MailOutcome(result.outcome).label)
