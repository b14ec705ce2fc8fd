"""A police officer in a real browser (Chromium): ranked referrals, then the loop back.

On a new installation (not the demo) an officer logs in with a TOTP code from
the enrolment page, lands on the portal, sees the referrals ranked with the
reasons of each score, opens the first, acknowledges and accepts it with a
reason, reveals an item's preview step by step; the hotline's analyst then
sees the acknowledgement and the acceptance on the URL's timeline.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.models import RevealDay
from openhotline.network.models import PoliceReferral, ReferralDecision
from tests.network.conftest import AssessFn, media_of, page_with_media, record_hosting
from tests.network.test_police_priority import matched
from tests.support.browser import ARTIFACTS, log_in_by_enrolment, new_page, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_police_officer_works_the_ranked_referrals_and_the_hotline_sees_the_answer(
    browser_server: LiveServer,
    browser: Any,
    browser_page: Any,
    hotline_a: Organisation,
    police_org: Organisation,
    analyst: User,
    assess: AssessFn,
) -> None:
    do_create_user("officer", police_org, Role.POLICE_OFFICER, password="correct horse 91")
    # Known material, and new material of the youngest age group: the second ranks first.
    known = page_with_media(hotline_a, "http://known.test/page", images=1, first_seed=2)
    record_hosting(known, country="DK")
    assess(known, analyst)
    matched(media_of(known)[0])
    urgent = page_with_media(hotline_a, "http://urgent.test/page", images=1, first_seed=7)
    record_hosting(urgent, country="DK")
    assess(urgent, analyst, age_group="infant")
    referral = PoliceReferral.objects.get(reported_url=urgent)
    page = browser_page
    base = browser_server.url
    ARTIFACTS.mkdir(exist_ok=True)

    log_in_by_enrolment(page, base, "officer", "correct horse 91")
    if "/lea/referrals/" not in page.url:  # whichever home the login lands on
        page.goto(f"{base}/lea/referrals/")
    page.wait_for_selector("#referrals tr.referral")
    page.screenshot(path=str(ARTIFACTS / "lea-referrals.png"), full_page=True)
    first = page.locator("#referrals tr.referral").first
    assert first.get_attribute("data-code") == referral.code
    why = first.locator("td.why").inner_text()
    assert "New material, never seen in any hash set" in why and "+40" in why
    assert "Youngest age group" in why
    second = page.locator("#referrals tr.referral").nth(1).locator("td.why").inner_text()
    assert "New material" not in second

    first.locator(f"a[href='/lea/referrals/{referral.code}/']").click()
    page.wait_for_url(f"{base}/lea/referrals/{referral.code}/")
    assert "Priority" in page.inner_text("#priority")
    page.click("#acknowledge")
    page.wait_for_selector(".messages")
    page.fill("textarea[name=reason]", "Taken on by the online child abuse unit")
    page.click("#accept")
    page.wait_for_selector("#investigation")
    feedback = page.inner_text("#feedback")
    assert "Accepted" in feedback and "Taken on by the online child abuse unit" in feedback

    # The item's page: blurred, then greyscale, then colour, each counted.
    item = media_of(urgent)[0]
    page.goto(f"{base}/lea/items/{item.code}/")
    assert "/thumb.jpg" in (page.get_attribute("#preview", "src") or "")
    page.click("#reveal-grey")
    wait_until(page, "document.getElementById('preview').dataset.step === 'grey'")
    page.click("#reveal-colour")
    wait_until(page, "document.getElementById('preview').dataset.step === 'colour'")
    wait_until(page, "document.getElementById('preview').naturalWidth > 0")
    page.screenshot(path=str(ARTIFACTS / "lea-item.png"), full_page=True)
    assert RevealDay.objects.get(user__username="officer").revealed == 1

    referral.refresh_from_db()
    assert referral.decision == ReferralDecision.ACCEPTED and referral.acknowledged_at

    # The hotline's analyst sees the answer on the URL's timeline.
    do_create_user("hanne", hotline_a, Role.ANALYST, password="correct horse 92")
    staff = new_page(browser)
    try:
        log_in_by_enrolment(staff, base, "hanne", "correct horse 92")
        staff.goto(f"{base}/app/urls/{urgent.code}/")
        text = staff.inner_text("body")
        assert f"Referral {referral.code} acknowledged by the police (Police DK)" in text
        assert "accepted by the police (Police DK): Taken on by the online child abuse unit" in text
    finally:
        staff.context.close()
