"""In a real Chromium, pages load under the Content-Security-Policy without a
single violation: no inline script or style is left in their templates."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.models import Organisation, User
from openhotline.crawler.models import CrawlRun, CrawlState
from tests.conftest import verified_client
from tests.crawler.conftest import file_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Runs before any page script: collects every violation the page reports.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


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
    browser_server: LiveServer,
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
    staff.add_cookies([{"name": "sessionid", "value": session, "url": browser_server.url}])

    pages = {
        "login": (public, "/accounts/login/"),
        "public report form": (public, "/report/"),
        "transparency report": (public, "/transparency/"),
        "statistics dashboard": (staff, "/app/stats/"),
        "crawler progress (polling)": (staff, f"/app/urls/{url.code}/"),
    }
    found = {
        name: visit(context, browser_server.url + path) for name, (context, path) in pages.items()
    }
    assert found == {name: [] for name in pages}
    public.close()
    staff.close()


def test_an_inline_script_would_be_reported(
    browser_server: LiveServer, browser: Any, db: Any
) -> None:
    """The listener works: an inline script injected into a page is a violation."""
    context = browser.new_context()
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.goto(browser_server.url + "/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(300)
    assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))
    context.close()
