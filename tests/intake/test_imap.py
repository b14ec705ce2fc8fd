"""E-mail intake against a real Dovecot on 127.0.0.1, over TLS with a CA made at test time."""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openhotline.accounts.models import Organisation
from openhotline.intake import imap as imap_module
from openhotline.intake.models import ImportedMessage, MailOutcome
from openhotline.reports.models import Report
from tests.conftest import missing_service
from tests.support.dovecot import Dovecot, dovecot_server

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with dovecot_server() as server:
        if server is None:
            missing_service("Dovecot (Debian package dovecot-imapd)")
        assert server is not None
        yield server


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Iterator[imaplib.IMAP4_SSL]:
    """A client of the test's own, with an empty INBOX."""
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    client = imaplib.IMAP4_SSL(dovecot.host, dovecot.port, ssl_context=context, timeout=10)
    client.login(dovecot.user, dovecot.password)
    _, data = client.select("INBOX")
    if int(data[0] or 0):
        client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
        client.expunge()
    yield client
    client.logout()


@pytest.fixture
def imap_settings(dovecot: Dovecot, settings: Any, tmp_path: Path) -> Any:
    settings.OPENHOTLINE_INTAKE_IMAP_HOST = dovecot.host
    settings.OPENHOTLINE_INTAKE_IMAP_PORT = dovecot.port
    settings.OPENHOTLINE_INTAKE_IMAP_USER = dovecot.user
    settings.OPENHOTLINE_INTAKE_IMAP_PASSWORD = dovecot.password
    settings.OPENHOTLINE_INTAKE_IMAP_CA_FILE = str(dovecot.ca_file)
    settings.OPENHOTLINE_INTAKE_MAIL_ALLOWED_SENDERS = ["@partner.test"]
    settings.OPENHOTLINE_INTAKE_MAIL_DIR = tmp_path / "mail"
    return settings


def deliver(client: imaplib.IMAP4_SSL, sender: str, body: str, message_id: str) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["Subject"] = "report"
    message["Message-ID"] = message_id
    message.set_content(body)
    message.add_alternative(
        f"<p>{body} <a href='https://html.test/{message_id[1:3]}'>x</a></p>", subtype="html"
    )
    reply = client.append("INBOX", "", "", message.as_bytes())
    assert reply[0] == "OK"


def unseen(client: imaplib.IMAP4_SSL) -> list[bytes]:
    client.noop()
    _, data = client.uid("SEARCH", "UNSEEN")
    return data[0].split()


def test_unread_messages_are_imported_once_and_marked_read(
    hotline_a: Organisation, mailbox: imaplib.IMAP4_SSL, imap_settings: Any
) -> None:
    deliver(mailbox, "abuse@partner.test", "first http://one.test/a", "<m1@partner.test>")
    deliver(mailbox, "abuse@partner.test", "second http://two.test/b", "<m2@partner.test>")
    deliver(mailbox, "spam@elsewhere.test", "buy http://spam.test/", "<m3@elsewhere.test>")
    call_command("intake", "imap", "--once")
    assert unseen(mailbox) == []
    reports = Report.objects.order_by("pk")
    assert [sorted(r.urls.values_list("normalized_url", flat=True)) for r in reports] == [
        ["http://one.test/a", "https://html.test/m1"],
        ["http://two.test/b", "https://html.test/m2"],
    ]
    outcomes = sorted(ImportedMessage.objects.values_list("outcome", flat=True))
    assert outcomes == [MailOutcome.IMPORTED, MailOutcome.IMPORTED, MailOutcome.REFUSED_SENDER]
    # A message someone marks unread again is recognised, not imported twice.
    first_uid = mailbox.uid("SEARCH", "ALL")[1][0].split()[0]
    mailbox.uid("STORE", first_uid, "-FLAGS.SILENT", "(\\Seen)")
    assert unseen(mailbox) == [first_uid]
    call_command("intake", "imap", "--once")
    assert Report.objects.count() == 2 and unseen(mailbox) == []


def test_a_crash_before_the_seen_flag_imports_nothing_twice(
    hotline_a: Organisation,
    mailbox: imaplib.IMAP4_SSL,
    imap_settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliver(mailbox, "abuse@partner.test", "http://one.test/a", "<c1@partner.test>")
    deliver(mailbox, "abuse@partner.test", "http://two.test/b", "<c2@partner.test>")

    def crash(imap: imaplib.IMAP4, uid: str) -> None:
        raise OSError("killed between commit and flag")

    monkeypatch.setattr(imap_module, "flag_seen", crash)
    with pytest.raises(CommandError, match="killed between commit and flag"):
        call_command("intake", "imap", "--once")
    assert Report.objects.count() == 1 and len(unseen(mailbox)) == 2
    monkeypatch.undo()
    call_command("intake", "imap", "--once")
    assert Report.objects.count() == 2 and unseen(mailbox) == []


def test_a_server_certificate_from_another_ca_is_refused(
    hotline_a: Organisation,
    dovecot: Dovecot,
    mailbox: imaplib.IMAP4_SSL,
    imap_settings: Any,
) -> None:
    deliver(mailbox, "abuse@partner.test", "http://one.test/a", "<t1@partner.test>")
    imap_settings.OPENHOTLINE_INTAKE_IMAP_CA_FILE = str(dovecot.other_ca_file)
    with pytest.raises(CommandError, match="CERTIFICATE_VERIFY_FAILED"):
        call_command("intake", "imap", "--once")
    assert not Report.objects.exists() and len(unseen(mailbox)) == 1


def test_a_wrong_password_is_reported_without_importing(
    hotline_a: Organisation, imap_settings: Any
) -> None:
    imap_settings.OPENHOTLINE_INTAKE_IMAP_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="imap://reports@127.0.0.1"):
        call_command("intake", "imap", "--once")
