"""Reminder sweeps running at once remind each referral once (real processes, real SMTP)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.network.models import PoliceReferral
from openhotline.reports.models import TimelineEntry
from tests.network.conftest import AssessFn, page_with_media, record_hosting
from tests.support.services import free_port, openhotline_env
from tests.takedown.conftest import Mailbox

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp_box() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.mark.timeout(240)
def test_sweeps_running_at_once_send_each_reminder_once(
    tmp_path: Path,
    hotline_a: Organisation,
    analyst: User,
    police: User,
    assess: AssessFn,
    smtp_box: tuple[Mailbox, int],
) -> None:
    police.email = "paula@police-dk.test"
    police.save(update_fields=["email"])
    codes = []
    for n in range(3):
        page = page_with_media(hotline_a, f"http://gallery.test/late{n}", first_seed=n + 1)
        record_hosting(page, country="DK")
        assess(page, analyst)
        referral = PoliceReferral.objects.get(reported_url=page)
        codes.append(referral.code)
    PoliceReferral.objects.update(created_at=timezone.now() - timedelta(hours=5))
    box, port = smtp_box
    env = openhotline_env(
        tmp_path / "data",
        OPENHOTLINE_LEA_REMIND_AFTER_HOURS="4",
        OPENHOTLINE_MAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        OPENHOTLINE_SMTP_HOST="127.0.0.1",
        OPENHOTLINE_SMTP_PORT=str(port),
        OPENHOTLINE_SMTP_SECURITY="none",
        OPENHOTLINE_SMTP_USER="",
        OPENHOTLINE_SMTP_TIMEOUT="5",
    )
    sweeps = [
        subprocess.Popen(
            [sys.executable, "-m", "openhotline", "network", "remind"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=180)[0].decode() for proc in sweeps]
    assert all(proc.returncode == 0 for proc in sweeps), outputs
    assert sum(int(out.split()[-2]) for out in outputs) == 3, outputs
    bodies = [raw.decode() for _, _, raw in box.messages]
    assert len(bodies) == 3
    for code in codes:
        assert sum(code in body for body in bodies) == 1
    assert all(rcpt == ["paula@police-dk.test"] for _, rcpt, _ in box.messages)
    assert TimelineEntry.objects.filter(kind="network.referral_reminded").count() == 3
    assert not PoliceReferral.objects.filter(reminded_at__isnull=True).exists()
