"""A real browser: a partner on a new installation makes a key, reports, follows the report."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role
from openhotline.reports.actions import do_set_url_state
from openhotline.reports.models import Report, UrlState
from tests.support.browser import ARTIFACTS, log_in_by_enrolment

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_partner_reports_through_the_api_and_follows_the_public_state(
    browser_server: LiveServer,
    browser_page: Any,
    hotline_a: Organisation,
    partner_org: Organisation,
) -> None:
    do_create_user("pia", partner_org, Role.PARTNER, password="correct horse 13")
    page = browser_page
    base = browser_server.url
    log_in_by_enrolment(page, base, "pia", "correct horse 13")
    assert page.url == f"{base}/app/partner/"

    page.click('a[href="/app/keys/"] >> nth=0')
    page.fill("input[name=name]", "moderation tool")
    with page.expect_navigation():
        page.click("#new-key button[type=submit]")
    key = page.inner_text("#api-key").strip()

    sent = page.request.post(
        f"{base}/api/v1/reports",
        headers={"Authorization": f"Bearer {key}"},
        data={"urls": ["http://found.test/x"], "external_ref": "mod-42", "hotline": hotline_a.slug},
    )
    assert sent.status == 201, sent.text()
    code = sent.json()["code"]
    page.goto(f"{base}/app/partner/")
    row = page.locator(f"#report-{code}")
    assert "mod-42" in row.inner_text() and "received" in row.inner_text()

    do_set_url_state(Report.objects.get(code=code).urls.get(), UrlState.NOT_ILLEGAL)
    page.reload()
    assert "closed" in page.locator(f"#report-{code} .public-state").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "partner-home.png"), full_page=True)
