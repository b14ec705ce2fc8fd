"""In a real Chromium, pages load under the Content-Security-Policy without a
single violation: no inline script or style is left in their templates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.models import Organisation, User
from openhotline.crawler.models import CrawlRun, CrawlState
from tests.conftest import missing_service, verified_client
from tests.crawler.conftest import file_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
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
# Runs before any page script: collects every violation the page reports.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def server(transactional_db: Any) -> Iterator[LiveServer]:
    live = LiveServer("127.0.0.1")
    yield live
    live.stop()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing_service("Chromium (/usr/bin/chromium, Debian package chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


def visit(context: Any, url: str) -> list[str]:
    """Load ``url`` and return the CSP violations (events and console messages)."""
    page = context.new_page()
    page.set_default_timeout(15000)
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "Content-Security-Policy" in response.all_headers() or (
        "content-security-policy" in response.all_headers()
    )
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    violations = list(page.evaluate("window.__cspViolations")) + console
    page.close()
    return violations


def test_public_and_staff_pages_load_without_a_csp_violation(
    server: LiveServer,
    browser: Any,
    hotline_a: Organisation,
    admin: User,
    analyst: User,
) -> None:
    url = file_url(hotline_a, "http://gallery.test/running")
    CrawlRun.objects.create(reported_url=url, state=CrawlState.RUNNING, pages=1, media_found=3)

    public = browser.new_context()
    public.add_init_script(LISTEN)
    staff = browser.new_context()
    staff.add_init_script(LISTEN)
    session = verified_client(admin).cookies["sessionid"].value
    staff.add_cookies([{"name": "sessionid", "value": session, "url": server.url}])

    pages = {
        "login": (public, "/accounts/login/"),
        "public report form": (public, "/report/"),
        "transparency report": (public, "/transparency/"),
        "statistics dashboard": (staff, "/app/stats/"),
        "crawler progress (polling)": (staff, f"/app/urls/{url.code}/"),
    }
    found = {name: visit(context, server.url + path) for name, (context, path) in pages.items()}
    assert found == {name: [] for name in pages}
    public.close()
    staff.close()


def test_an_inline_script_would_be_reported(server: LiveServer, browser: Any, db: Any) -> None:
    """The listener works: an inline script injected into a page is a violation."""
    context = browser.new_context()
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.goto(server.url + "/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(300)
    assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))
    context.close()
