"""A real browser: a new installation's admin invites a colleague and later deactivates them.

The first admin is made on the command line, as on a new installation (not
the demo); everything after that happens in Chromium.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django_otp.oath import TOTP
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Membership, Organisation, Role, User
from tests.support.browser import ARTIFACTS, log_in_by_enrolment, new_page

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_admin_invites_a_colleague_who_enrols_and_is_deactivated(
    browser_server: LiveServer, browser: Any, hotline_a: Organisation
) -> None:
    do_create_user("adam", hotline_a, Role.ADMIN, password="correct horse 2")
    base = browser_server.url
    admin = new_page(browser)
    log_in_by_enrolment(admin, base, "adam", "correct horse 2")
    assert admin.url == f"{base}/app/admin/{hotline_a.slug}/"
    # Every settings page is one click away.
    assert admin.locator(f'a[href="/app/settings/{hotline_a.slug}/"]').count() == 1
    assert admin.locator(f'a[href="/app/blocking/{hotline_a.slug}/stop-page/"]').count() == 1

    admin.click(f'a[href="/app/admin/{hotline_a.slug}/people/"]')
    admin.fill("input[name=username]", "nina")
    admin.select_option("select[name=role]", Role.SENIOR_ANALYST)
    admin.click("text=Create the invitation link")
    link = admin.inner_text("#enrolment-link").strip()
    assert link.startswith(f"{base}/accounts/enrol/")

    invitee = new_page(browser)
    invitee.goto(link)
    invitee.fill("input[name=new_password1]", "a long passphrase 77")
    invitee.fill("input[name=new_password2]", "a long passphrase 77")
    invitee.click("button[type=submit]")
    invitee.wait_for_selector("#totp-secret")
    secret = invitee.inner_text("#totp-secret").strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    invitee.fill("input[name=code]", f"{TOTP(key).token():06d}")
    invitee.keyboard.press("Enter")
    invitee.wait_for_url(f"{base}/app/")
    nina = User.objects.get(username="nina")
    assert Membership.objects.get(user=nina).role == Role.SENIOR_ANALYST
    # The link worked once.
    again = new_page(browser)
    again.goto(link)
    assert "#totp-secret" not in again.content()
    assert again.locator("input[name=new_password1]").count() == 0

    admin.goto(f"{base}/app/admin/{hotline_a.slug}/people/nina/")
    ARTIFACTS.mkdir(exist_ok=True)
    admin.screenshot(path=str(ARTIFACTS / "admin-member.png"), full_page=True)
    admin.click("#deactivate")
    admin.wait_for_selector("text=Account deactivated")
    nina.refresh_from_db()
    assert not nina.is_active
    invitee.goto(f"{base}/app/")
    assert invitee.url.startswith(f"{base}/accounts/login/")
