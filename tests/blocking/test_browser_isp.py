"""A real browser: a provider's operator on a new installation makes a key and checks the feed."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role
from tests.support.browser import ARTIFACTS, log_in_by_enrolment

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_isp_operator_rotates_its_key_and_sees_it_is_up_to_date(
    browser_server: LiveServer,
    browser_page: Any,
    hotline_a: Organisation,
    isp_org: Organisation,
    published,
) -> None:
    do_create_user("ivan", isp_org, Role.ISP_OPERATOR, password="correct horse 5")
    published(urls=["http://bad.test/a"], domains=["bad.test"])
    page = browser_page
    base = browser_server.url
    log_in_by_enrolment(page, base, "ivan", "correct horse 5")
    assert page.url == f"{base}/app/isp/"
    assert "never" in page.inner_text(f"#feed-{hotline_a.slug} .last-fetch")
    rpz_url = f"{base}/feed/v1/blocklist.rpz"
    assert rpz_url in page.inner_text(f"#feed-{hotline_a.slug} .feed-urls")

    def new_key(name: str) -> str:
        page.goto(f"{base}/app/keys/")
        page.fill("input[name=name]", name)
        with page.expect_navigation():
            page.click("#new-key button[type=submit]")
        return page.inner_text("#api-key").strip()

    old = new_key("resolver 1")
    assert page.request.get(rpz_url, headers={"X-API-Key": old}).status == 200
    # Rotation: a new key, the resolver switched over, the old one revoked.
    new = new_key("resolver 2")
    page.goto(f"{base}/app/keys/")
    with page.expect_navigation():
        page.click(f"#key-{old.split('_')[1]} button.revoke")
    assert page.request.get(rpz_url, headers={"X-API-Key": old}).status == 401
    assert page.request.get(rpz_url, headers={"X-API-Key": new}).status == 200

    published(urls=["http://bad.test/b"])
    page.goto(f"{base}/app/isp/")
    assert "1 version behind" in page.inner_text(f"#feed-{hotline_a.slug} .behind")
    assert page.request.get(rpz_url, headers={"X-API-Key": new}).status == 200
    page.reload()
    assert "up to date" in page.inner_text(f"#feed-{hotline_a.slug} .behind")
    assert "127.0.0.1" in page.inner_text("#stop-page-setup")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "isp-home.png"), full_page=True)
