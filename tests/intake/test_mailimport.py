from __future__ import annotations

import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openhotline.accounts.models import Organisation
from openhotline.intake.actions.mailimport import do_import_message, mail_store
from openhotline.intake.models import ImportedMessage, MailOutcome
from openhotline.reports.models import Report, ReportSource
from tests.support.services import openhotline_env

pytestmark = pytest.mark.django_db


def mail(
    sender: str = "Team <abuse@partner.test>",
    body: str = "Please look at http://gallery.test/a and hxxp://gallery[.]test/b",
    message_id: str | None = "<m1@partner.test>",
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "reports@hotline.test"
    message["Subject"] = "Two galleries"
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture(autouse=True)
def mail_settings(settings: Any, tmp_path: Path) -> None:
    settings.OPENHOTLINE_INTAKE_MAIL_ALLOWED_SENDERS = ["@partner.test"]
    settings.OPENHOTLINE_INTAKE_MAIL_DIR = tmp_path / "mail"


def test_a_message_becomes_a_report_with_its_raw_message_as_evidence(
    hotline_a: Organisation, tmp_path: Path
) -> None:
    raw = mail()
    result = do_import_message(raw, mailbox="pipe")
    report = result.report
    assert result.outcome == MailOutcome.IMPORTED and report is not None
    assert report.source == ReportSource.EMAIL and report.hotline == hotline_a
    assert sorted(report.urls.values_list("normalized_url", flat=True)) == [
        "http://gallery.test/a",
        "http://gallery.test/b",
    ]
    assert "Subject: Two galleries" in report.description
    imported = ImportedMessage.objects.get()
    assert mail_store().get(imported.blob_name) == raw
    stored = tmp_path / "mail" / imported.blob_name[:2] / imported.blob_name
    assert b"gallery.test" not in stored.read_bytes()


def test_a_nul_in_a_message_is_shown_as_a_replacement_and_the_raw_message_kept(
    hotline_a: Organisation,
) -> None:
    """PostgreSQL cannot store a NUL; the report is filed anyway, the evidence is unchanged."""
    raw = mail(body="See http://gallery.test/a\x00 now").replace(b"<m1@", b"<m\x001@")
    assert raw.count(b"\x00") == 2
    result = do_import_message(raw, mailbox="pipe")
    report = result.report
    assert result.outcome == MailOutcome.IMPORTED and report is not None
    assert "\x00" not in report.description and "\ufffd now" in report.description
    assert "\x00" not in report.external_ref
    assert mail_store().get(ImportedMessage.objects.get().blob_name) == raw


def test_a_message_is_imported_once_however_often_it_arrives(hotline_a: Organisation) -> None:
    first = do_import_message(mail(), mailbox="pipe")
    again = do_import_message(mail(), mailbox="imap://x")
    assert again.duplicate and again.report == first.report
    no_id = mail(message_id=None)
    assert not do_import_message(no_id, mailbox="pipe").duplicate
    assert do_import_message(no_id, mailbox="pipe").duplicate
    assert Report.objects.count() == 2


def test_a_sender_off_the_allow_list_files_nothing(hotline_a: Organisation) -> None:
    result = do_import_message(mail(sender="x@elsewhere.test"), mailbox="pipe")
    assert result.outcome == MailOutcome.REFUSED_SENDER and result.report is None
    assert not Report.objects.exists()
    assert ImportedMessage.objects.get().blob_name == ""


def test_the_mail_command_reads_a_message_and_says_what_it_did(
    hotline_a: Organisation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "message.eml"
    path.write_bytes(mail())
    call_command("intake", "mail", "--file", str(path))
    code = Report.objects.get().code
    assert f"imported as report {code}" in capsys.readouterr().out
    call_command("intake", "mail", "--file", str(path))
    assert f"already imported as report {code}" in capsys.readouterr().out


def test_the_mail_command_exits_with_ex_dataerr_for_a_message_too_large(
    hotline_a: Organisation, tmp_path: Path, settings: Any
) -> None:
    settings.OPENHOTLINE_INTAKE_MAIL_MAX_BYTES = 1024
    path = tmp_path / "big.eml"
    path.write_bytes(mail(body="http://a.test/ " + "x" * 5000))
    with pytest.raises(CommandError) as caught:
        call_command("intake", "mail", "--file", str(path))
    assert caught.value.returncode == 65
    assert ImportedMessage.objects.get().outcome == MailOutcome.TOO_LARGE
    assert not Report.objects.exists()


def test_the_mail_command_asks_to_retry_when_no_hotline_receives_mail(
    db: Any, tmp_path: Path
) -> None:
    path = tmp_path / "message.eml"
    path.write_bytes(mail())
    with pytest.raises(CommandError) as caught:
        call_command("intake", "mail", "--file", str(path))
    assert caught.value.returncode == 75 and "OPENHOTLINE_INTAKE_MAIL_HOTLINE" in str(caught.value)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_mail_server_can_pipe_a_message_into_openhotline(
    hotline_a: Organisation, tmp_path: Path
) -> None:
    env = openhotline_env(
        tmp_path / "data",
        OPENHOTLINE_INTAKE_MAIL_ALLOWED_SENDERS="@partner.test",
        OPENHOTLINE_INTAKE_MAIL_DIR=str(tmp_path / "mail"),
    )
    run = subprocess.run(
        [sys.executable, "-m", "openhotline", "intake", "mail"],
        input=mail(),
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    report = Report.objects.get()
    assert f"imported as report {report.code}" in run.stdout.decode()
    assert report.urls.count() == 2
