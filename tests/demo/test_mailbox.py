"""The demo mailbox page: the caught notices of the user's own hotlines, and only in a demo."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation, User
from openhotline.takedown.models import (
    AbuseContact,
    ContactKind,
    ContactSource,
    Notice,
    NoticeKind,
    NoticeState,
)


def caught(folder: Path, notice: Notice | None, subject: str) -> None:
    message = EmailMessage()
    message["To"] = "abuse@hoster.test"
    message["Subject"] = subject
    if notice is not None:
        message["X-Openhotline-Notice"] = notice.code
    message.set_content(f"Please remove http://gallery.test/{subject}")
    folder.mkdir(exist_ok=True)
    (folder / f"{len(list(folder.iterdir()))}.eml").write_bytes(message.as_bytes())


def notice_of(hotline: Organisation) -> Notice:
    contact = AbuseContact.objects.create(
        hotline=hotline,
        name="Hoster",
        email="abuse@hoster.test",
        kind=ContactKind.HOSTER,
        source=ContactSource.MANUAL,
    )
    return Notice.objects.create(
        hotline=hotline,
        contact=contact,
        kind=NoticeKind.NOTICE,
        recipient=contact.email,
        language="da",
        subject="x",
        text="x",
        state=NoticeState.SENT,
    )


@pytest.fixture
def mailbox(tmp_path: Path, settings: SettingsWrapper) -> Path:
    settings.DATA_DIR = tmp_path
    settings.OPENHOTLINE_DEMO = True
    return tmp_path / "demo-mailbox"


def test_an_analyst_sees_the_notices_of_their_hotline_only(
    mailbox: Path,
    hotline_a: Organisation,
    hotline_b: Organisation,
    analyst: User,
    outsider: User,
    as_user: Any,
) -> None:
    ours, theirs = notice_of(hotline_a), notice_of(hotline_b)
    caught(mailbox, ours, "ours-subject")
    caught(mailbox, theirs, "theirs-subject")
    caught(mailbox, None, "forward-subject")
    page = as_user(analyst).get("/app/demo/mailbox/").content.decode()
    assert "ours-subject" in page and ours.code in page
    assert "http://gallery.test/ours-subject" in page
    assert "theirs-subject" not in page and "forward-subject" not in page
    assert 'href="/app/demo/mailbox/"' in page  # the navigation links it in a demo
    other = as_user(outsider).get("/app/demo/mailbox/").content.decode()
    assert "theirs-subject" in other and "ours-subject" not in other


def test_outside_a_demo_there_is_no_mailbox(
    mailbox: Path, settings: SettingsWrapper, hotline_a: Organisation, analyst: User, as_user: Any
) -> None:
    caught(mailbox, notice_of(hotline_a), "ours-subject")
    settings.OPENHOTLINE_DEMO = False
    client = as_user(analyst)
    assert client.get("/app/demo/mailbox/").status_code == 404
    assert "/app/demo/mailbox/" not in client.get("/app/takedown/").content.decode()


def test_an_anonymous_visitor_is_sent_to_the_login(mailbox: Path, client: Any) -> None:
    response = client.get("/app/demo/mailbox/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
