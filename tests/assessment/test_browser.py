"""A real browser (Debian's Chromium, driven by Playwright) works the queue with the keyboard.

It logs in with a TOTP code computed from the enrolment page's key, opens the
queue, classifies a URL's items with keys only, finishes it, and checks what
was stored. Screenshots of the queue and the review screen go to
``test-artifacts/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role
from openhotline.assessment.models import ItemStatus, UrlAssessment
from openhotline.assessment.priority import compute_scores
from openhotline.reports.models import ReportedUrl, UrlState
from tests.assessment.conftest import items_of, make_page
from tests.support.browser import ARTIFACTS, log_in_by_enrolment, press, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_analyst_classifies_a_url_with_the_keyboard_only(
    browser_server: LiveServer, browser_page: Any, hotline_a: Organisation
) -> None:
    do_create_user("kim", hotline_a, Role.ANALYST, password="correct horse 42")
    target = make_page(hotline_a, "http://browser.test/gallery", images=3, first_seed=60)
    filler = make_page(hotline_a, "http://browser.test/other")
    compute_scores([target.pk, filler.pk])
    first, second, third = items_of(target)
    page = browser_page
    base = browser_server.url
    ARTIFACTS.mkdir(exist_ok=True)

    log_in_by_enrolment(page, base, "kim", "correct horse 42")
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
    assert "browser.test/gallery" in page.inner_text("#queue tbody tr:first-child")

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/app/review/{target.code}/")
    page.wait_for_selector("article.item.current")

    # Item 1: pubescent, female, self-generated, then nationally illegal: the
    # attributes wait for the verdict, go with it, and the focus moves on.
    for key in ["a", "f", "s"]:
        page.keyboard.press(key)
    press(page, "2", "/classify")
    page.wait_for_selector(f"#item-{second.code}.current")
    # Items 2 and 3 selected together: not illegal, once; undo; and again.
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    press(page, "4", "/classify")
    press(page, "u", "/undo")
    assert ItemStatus.objects.filter(media_item__in=[second, third]).count() == 0
    page.keyboard.press("x")
    page.keyboard.press("k")
    page.keyboard.press("x")
    press(page, "4", "/classify")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.wait_for_selector(f"#item-{third.code}.current")
    # Reveal item 3: greyscale, then colour; moving on hides it again.
    press(page, "r", "/reveal/")
    wait_until(page, f"document.querySelector('#img-{third.code}').src.includes('/view.jpg?t=')")
    press(page, "r", "/reveal/")
    wait_until(page, f"document.querySelector('#img-{third.code}').dataset.step === 'colour'")
    page.keyboard.press("k")
    assert page.get_attribute(f"#img-{third.code}", "data-step") == "blurred"
    assert "/thumb.jpg" in page.get_attribute(f"#img-{third.code}", "src")
    # The page's site type, chosen with keys.
    page.keyboard.press("t")
    press(page, "ArrowDown", "/site-type")  # from "— choose —" to "Not determined"
    press(page, "ArrowDown", "/site-type")  # and on to "Website"
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    assert page.is_visible("#help")
    page.screenshot(path=str(ARTIFACTS / "review-help.png"))
    page.keyboard.press("Escape")
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)

    press(page, "Enter", "/finish")
    page.wait_for_url(f"{base}/app/")

    verdicts = {
        status.media_item_id: status.current
        for status in ItemStatus.objects.filter(hotline=hotline_a).select_related("current")
    }
    one = verdicts[first.pk]
    assert (one.verdict, one.age_group, one.gender, one.is_self_generated) == (
        "national",
        "pubescent",
        "female",
        True,
    )
    assert verdicts[second.pk].verdict == verdicts[third.pk].verdict == "not_illegal"
    assessment = UrlAssessment.objects.get(reported_url=target)
    assert (assessment.verdict, assessment.site_type) == ("national", "website")
    assert ReportedUrl.objects.get(pk=target.pk).state == UrlState.ILLEGAL
