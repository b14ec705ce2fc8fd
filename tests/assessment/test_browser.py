"""A real browser (Debian's Chromium, driven by Playwright) works the queue with the keyboard.

It logs in with a TOTP code computed from the enrolment page's key, opens the
queue, classifies a URL's items with keys only, finishes it, and checks what
was stored. Screenshots of the queue and the review screen go to
``test-artifacts/``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user, do_issue_enrolment_link
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.models import ItemStatus, UrlAssessment
from openhotline.assessment.priority import compute_scores
from openhotline.reports.models import ReportedUrl, UrlState
from tests.assessment.conftest import items_of, make_page
from tests.conftest import missing_service

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(transactional_db: Any) -> Iterator[LiveServer]:
    live = LiveServer("127.0.0.1")
    yield live
    live.stop()


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing_service("Chromium (/usr/bin/chromium, Debian package chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of
    # the test itself are plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        context.close()
        browser.close()


def log_in_with_totp(page: Any, base: str) -> None:
    # The authenticator is enrolled through a one-time link from an admin.
    _, token = do_issue_enrolment_link(User.objects.get(username="kim"))
    page.goto(f"{base}/accounts/enrol/{token}/")
    page.fill("input[name=password]", "correct horse 42")
    page.keyboard.press("Enter")
    page.wait_for_selector("#totp-secret")
    secret = page.inner_text("#totp-secret").strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("input[name=code]", f"{TOTP(key).token():06d}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/app/")


def press(page: Any, key: str, endpoint: str) -> None:
    """Press a key and wait until the action it triggers is saved."""
    with page.expect_response(lambda r: endpoint in r.url and r.request.method == "POST") as got:
        page.keyboard.press(key)
    assert got.value.status == 200, got.value.text()


def test_an_analyst_classifies_a_url_with_the_keyboard_only(
    server: LiveServer, browser_page: Any, hotline_a: Organisation
) -> None:
    do_create_user("kim", hotline_a, Role.ANALYST, password="correct horse 42")
    target = make_page(hotline_a, "http://browser.test/gallery", images=3, first_seed=60)
    filler = make_page(hotline_a, "http://browser.test/other")
    compute_scores([target.pk, filler.pk])
    first, second, third = items_of(target)
    page = browser_page
    base = server.url
    ARTIFACTS.mkdir(exist_ok=True)

    log_in_with_totp(page, base)
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
    assert "/view.jpg?t=" in page.get_attribute(f"#img-{third.code}", "src")
    press(page, "r", "/reveal/")
    assert page.get_attribute(f"#img-{third.code}", "data-step") == "colour"
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
