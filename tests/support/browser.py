"""A real browser for the tests: Debian's Chromium driven by Playwright, and a live server.

The fixtures are registered for every test by ``tests/conftest.py``:

- ``browser_server``: the application served on 127.0.0.1 for this test;
- ``browser``: a launched headless Chromium (contexts are the test's to open);
- ``browser_page``: one page in a fresh context of ``browser``.

``log_in_by_enrolment`` logs a page in as a new installation's user does it:
through an admin's one-time enrolment link, the password, then a TOTP code
computed from the key the enrolment page shows.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_issue_enrolment_link
from openhotline.accounts.home import home_url
from openhotline.accounts.models import User
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
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture
def browser_server(transactional_db: Any) -> Iterator[LiveServer]:
    """The application on 127.0.0.1 (pytest-socket allows no other address)."""
    live = LiveServer("127.0.0.1")
    yield live
    live.stop()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing_service("Chromium (/usr/bin/chromium, Debian package chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of
    # the test itself are plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def new_page(browser: Any) -> Any:
    """A page in a fresh context (its own cookies), with the tests' viewport and timeout."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    page = new_page(browser)
    yield page
    page.context.close()


def log_in_by_enrolment(page: Any, base: str, username: str, password: str) -> None:
    """Enrol an authenticator through an admin's one-time link, and land on the user's home.

    The home is the page of the user's role (``accounts.home``): the queue for
    analysts, ``/lea/`` for police, the ISP, partner, auditor or admin page.
    """
    user = User.objects.get(username=username)
    _, token = do_issue_enrolment_link(user)
    page.goto(f"{base}/accounts/enrol/{token}/")
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_selector("#totp-secret")
    secret = page.inner_text("#totp-secret").strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("input[name=code]", f"{TOTP(key).token():06d}")
    page.keyboard.press("Enter")
    # A home may redirect once more (the admin's to their hotline's page).
    page.wait_for_url(f"{base}{home_url(user)}**")
    page.wait_for_load_state()


def press(page: Any, key: str, endpoint: str, status: int = 200) -> None:
    """Press a key and wait until the POST it sends to ``endpoint`` is answered with ``status``."""
    with page.expect_response(lambda r: endpoint in r.url and r.request.method == "POST") as got:
        page.keyboard.press(key)
    assert got.value.status == status, got.value.text()


def wait_until(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Wait until a JavaScript expression is true in ``page``.

    Playwright's ``wait_for_function`` polls by ``eval`` inside the page, which
    the application's Content Security Policy (``script-src 'self'``) refuses
    whenever the first check is false. Each check here is a DevTools
    evaluation instead, which the policy does not govern.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(50)
