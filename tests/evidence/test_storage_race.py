"""Workers finishing crawls of one hotline at once raise one storage alarm, audited once.

Real OS processes on PostgreSQL (see tests/support/racers.py); SQLite lets
one writer in at a time, so there the test is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from openhotline.accounts.models import Organisation
from openhotline.audit.models import AuditEvent
from openhotline.celery import app
from openhotline.evidence.actions import do_check_storage, do_store_media
from openhotline.evidence.models import StorageAlarm
from openhotline.reports.actions import do_file_report
from tests.support.racers import Racers, postgres_only

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), postgres_only]

RACERS = 4


def check_storage(hotline_id: int, threshold: int) -> int | None:
    """Run in each racer: one storage check with a tiny threshold."""
    with override_settings(OPENHOTLINE_EVIDENCE_ALARM_BYTES=threshold):
        alarm = do_check_storage(Organisation.objects.get(pk=hotline_id))
    return None if alarm is None else alarm.pk


@pytest.fixture
def racers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Racers]:
    with Racers(RACERS, os.environ["OPENHOTLINE_DATA"]) as started:
        yield started


def test_checks_at_once_raise_one_alarm_and_one_audit_event(
    racers: Racers, hotline_a: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)
    url = do_file_report(hotline_a, source="public", urls=["http://full.test/"]).urls.get()
    do_store_media(b"\x89PNG\r\n\x1a\n" + b"x" * 5000, mime="image/png", reported_url=url)

    got = racers.run(f"{__name__}.check_storage", hotline_a.pk, 1000)

    alarm = StorageAlarm.objects.get()
    assert got == [alarm.pk] * RACERS
    assert AuditEvent.objects.filter(action="evidence.storage_alarm_raised").count() == 1
