"""A real browser: an auditor on a new installation filters the log, verifies it, exports it."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role
from openhotline.audit.models import AuditEvent
from tests.support.browser import ARTIFACTS, log_in_by_enrolment

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_auditor_filters_verifies_and_exports_the_log(
    browser_server: LiveServer, browser_page: Any, hotline_a: Organisation
) -> None:
    do_create_user("alice", hotline_a, Role.ANALYST, password="correct horse 1")
    do_create_user("aud", hotline_a, Role.AUDITOR, password="correct horse 11")
    page = browser_page
    base = browser_server.url
    log_in_by_enrolment(page, base, "aud", "correct horse 11")
    assert page.url == f"{base}/app/audit/"

    with page.expect_navigation():
        page.click("#verify-chain")
    assert "intact" in page.inner_text("#chain-state")

    page.fill("input[name=action]", "user.created")
    with page.expect_navigation():
        page.click("#audit-filters button[type=submit]")
    rows = page.locator("#events tbody tr")
    assert rows.count() == 2  # alice and aud
    assert "user.created" in rows.first.inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "audit-log.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#export-csv")
    body = open(download.value.path(), encoding="utf-8").read()
    assert body.startswith("seq,created_at,actor")
    assert body.count(",user.created,") == 2 and ",user.login," not in body
    assert AuditEvent.objects.filter(action="audit.log_exported", actor__username="aud").exists()
