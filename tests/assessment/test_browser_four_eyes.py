"""Four-eyes in a real browser (Debian's Chromium, driven by Playwright), as a new installation's
users work it: each enrols an authenticator through an admin's one-time link.

- A senior confirms an item on the confirmation screen after revealing it
  with the keyboard; the police referral appears only then.
- A blind second opinion that differs opens a dispute; the third analyst
  sees both opinions and their notes, and settles it.
- An analyst changes the verdict of an item that a finished URL shares; the
  screen lists that URL, the change waits for a senior, and once confirmed
  the first URL's takedown case is closed and its referral withdrawn.

Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role
from openhotline.assessment.actions.classification import (
    do_classify_item,
    do_finish_url,
    do_second_opinion,
)
from openhotline.assessment.models import ItemStatus, ReviewState, UrlAssessment
from openhotline.network.models import PoliceReferral
from openhotline.reports.models import ReportedUrl, UrlState
from openhotline.takedown.models import CaseState, TakedownCase
from tests.assessment.conftest import items_of, make_page
from tests.network.conftest import record_hosting
from tests.support.browser import ARTIFACTS, log_in_by_enrolment, new_page, press, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse 42"


@pytest.fixture(autouse=True)
def referrals_at_once(settings: SettingsWrapper) -> None:
    settings.OPENHOTLINE_POLICE_FIRST_HOURS = 0


def logged_in(browser: Any, base: str, username: str) -> Any:
    """A fresh browser context, logged in as ``username`` through an admin's enrolment link."""
    page = new_page(browser)
    log_in_by_enrolment(page, base, username, PASSWORD)
    return page


def submit(page: Any, key: str) -> None:
    """Press a key that submits a form, and wait for the page that follows."""
    with page.expect_navigation():
        page.keyboard.press(key)


def test_a_senior_reveals_and_confirms_on_the_confirmation_screen(
    browser_server: LiveServer, browser: Any, hotline_a: Organisation
) -> None:
    analyst = do_create_user("ann", hotline_a, Role.ANALYST, password=PASSWORD)
    do_create_user("sam", hotline_a, Role.SENIOR_ANALYST, password=PASSWORD)
    target = make_page(
        hotline_a,
        "http://confirm.test/gallery",
        images=1,
        first_seed=300,
        description="Pictures on an image board",
    )
    record_hosting(target, country="DK")
    (item,) = items_of(target)
    do_classify_item(hotline_a, item, "baseline", analyst=analyst, reported_url=target)
    do_finish_url(target, analyst)
    assert not PoliceReferral.objects.filter(reported_url=target).exists()

    page = logged_in(browser, browser_server.url, "sam")
    page.goto(f"{browser_server.url}/app/confirm/")
    card = page.locator("article.confirm-item.current")
    assert "confirm.test/gallery" in card.inner_text()
    assert "Pictures on an image board" in card.inner_text()
    assert card.locator(".first-verdict").count() == 0  # blind: the first verdict is hidden
    img = f"#img-{item.code}"
    assert page.get_attribute(img, "data-step") == "blurred"
    # The answer to the reveal arrives before the script shows it: wait for the step.
    step = f"document.querySelector('{img}').dataset.step"
    press(page, "r", "/reveal/")
    wait_until(page, f"{step} === 'grey'")
    assert "/view.jpg?t=" in page.get_attribute(img, "src")
    press(page, "r", "/reveal/")
    wait_until(page, f"{step} === 'colour'")
    wait_until(page, "document.querySelector('#wb-counters').innerText.includes('Revealed: 1')")
    assert "Revealed: 1 this session" in page.inner_text("#wb-counters")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "confirm.png"), full_page=True)
    # Enter without a verdict sends nothing and puts the focus on the choice.
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "verdict"
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    submit(page, "Enter")
    assert "in force" in page.inner_text("main")
    status = ItemStatus.objects.get(media_item=item)
    assert status.review_state == ReviewState.FINAL
    assert PoliceReferral.objects.filter(reported_url=target).count() == 1


def test_a_blind_disagreement_goes_to_a_third_analyst_who_sees_both_opinions(
    browser_server: LiveServer, browser: Any, hotline_a: Organisation
) -> None:
    analyst = do_create_user("ann", hotline_a, Role.ANALYST, password=PASSWORD)
    do_create_user("sam", hotline_a, Role.SENIOR_ANALYST, password=PASSWORD)
    do_create_user("tom", hotline_a, Role.ANALYST, password=PASSWORD)
    target = make_page(hotline_a, "http://dispute.test/", images=1, first_seed=310)
    record_hosting(target, country="DK")
    (item,) = items_of(target)
    do_classify_item(
        hotline_a, item, "baseline", analyst=analyst, reported_url=target, note="child, clearly"
    )
    do_finish_url(target, analyst)

    senior = logged_in(browser, browser_server.url, "sam")
    senior.goto(f"{browser_server.url}/app/confirm/")
    senior.keyboard.press("4")
    senior.fill("article.current input[name=note]", "adult model, ID on the site")
    senior.focus("article.current")
    submit(senior, "Enter")
    assert "a third analyst will decide" in senior.inner_text("main")
    assert ItemStatus.objects.get(media_item=item).review_state == ReviewState.DISPUTED
    senior.context.close()

    third = logged_in(browser, browser_server.url, "tom")
    third.goto(f"{browser_server.url}/app/confirm/")
    opinions = third.inner_text("article.current table.opinions")
    assert "ann" in opinions and "Baseline" in opinions and "child, clearly" in opinions
    assert "sam" in opinions and "Not illegal" in opinions and "adult model" in opinions
    third.screenshot(path=str(ARTIFACTS / "dispute.png"), full_page=True)
    third.select_option("article.current select[name=verdict]", "not_illegal")
    with third.expect_navigation():
        third.click("article.current button.send")
    assert ItemStatus.objects.get(media_item=item).current.verdict == "not_illegal"
    assert ReportedUrl.objects.get(pk=target.pk).state == UrlState.NOT_ILLEGAL
    assert not PoliceReferral.objects.filter(reported_url=target).exists()
    assert not TakedownCase.objects.filter(reported_url=target).exists()


def test_a_reclassified_shared_item_reopens_the_finished_url(
    browser_server: LiveServer, browser: Any, hotline_a: Organisation
) -> None:
    first_analyst = do_create_user("ann", hotline_a, Role.ANALYST, password=PASSWORD)
    senior = do_create_user("sam", hotline_a, Role.SENIOR_ANALYST, password=PASSWORD)
    do_create_user("kim", hotline_a, Role.ANALYST, password=PASSWORD)
    first = make_page(hotline_a, "http://shared.test/first", images=1, first_seed=320)
    record_hosting(first, country="DK")
    (item,) = items_of(first)
    status = do_classify_item(
        hotline_a, item, "baseline", analyst=first_analyst, reported_url=first
    )
    do_finish_url(first, first_analyst)
    do_second_opinion(status, senior, "baseline")
    assert TakedownCase.objects.get(reported_url=first).state != CaseState.CLOSED
    # The same picture turns up on a second page.
    second = make_page(hotline_a, "http://elsewhere.test/second", images=1, first_seed=320)
    assert items_of(second) == [item]

    page = logged_in(browser, browser_server.url, "kim")
    page.goto(f"{browser_server.url}/app/review/{second.code}/")
    page.wait_for_selector("article.item.current")
    press(page, "4", "/classify", status=409)
    message = page.inner_text("#ws-status")
    assert "1 finished URL" in message and first.code in message
    assert ItemStatus.objects.get(media_item=item).current.verdict == "baseline"
    page.screenshot(path=str(ARTIFACTS / "shared-item.png"), full_page=True)
    with page.expect_response(lambda r: "/classify" in r.url) as got:
        page.click("#confirm-shared")
    assert got.value.status == 200
    changed = ItemStatus.objects.select_related("current").get(media_item=item)
    assert changed.current.verdict == "not_illegal"
    assert changed.review_state == ReviewState.AWAITING_CONFIRMATION
    assert ReportedUrl.objects.get(pk=first.pk).state == UrlState.ILLEGAL
    page.context.close()

    confirmer = logged_in(browser, browser_server.url, "sam")
    confirmer.goto(f"{browser_server.url}/app/confirm/")
    confirmer.keyboard.press("4")
    submit(confirmer, "Enter")
    assert ReportedUrl.objects.get(pk=first.pk).state == UrlState.NOT_ILLEGAL
    assert UrlAssessment.objects.get(reported_url=first).verdict == "not_illegal"
    assert TakedownCase.objects.get(reported_url=first).state == CaseState.CLOSED
    kinds = set(ReportedUrl.objects.get(pk=first.pk).timeline.values_list("kind", flat=True))
    assert "network.referral_withdrawn" in kinds
