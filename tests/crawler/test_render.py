"""Rendering in headless Chromium: every request goes through safehttp's address checks.

Pages are served on 127.0.0.1; a server on 127.0.0.2 (left out of the
allow-list) must never see a request, whether a script asks for it
directly or a redirect points there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from PIL import Image

from openhotline.crawler.engine import CrawlPolicy
from openhotline.crawler.render import render_page
from openhotline.lib.netcheck import parse_allow_list
from openhotline.lib.safehttp import FetchPolicy
from tests.conftest import missing_service
from tests.crawler.conftest import media, page, png
from tests.support.loopback import LoopbackServer, reply

CHROMIUM = os.environ.get("OPENHOTLINE_CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def chromium() -> Iterator[None]:
    if not os.access(CHROMIUM, os.X_OK):
        missing_service("Chromium (Debian package chromium)")
    yield


def policy() -> CrawlPolicy:
    fetch = FetchPolicy(allow=parse_allow_list("127.0.0.1"), deadline=5.0)
    return CrawlPolicy(fetch=fetch, max_page_bytes=1024 * 1024, max_media_bytes=1024 * 1024)


def names(result: object) -> list[str]:
    return sorted(item.url.rsplit("/", 1)[1] for item, _ in result.media)  # type: ignore[attr-defined]


def test_script_images_are_recorded_and_a_refused_address_is_never_asked(
    web: LoopbackServer, inner: LoopbackServer
) -> None:
    evil = inner.url("/evil.png")
    web.routes["/"] = page(
        "<title>Scripted</title><body><script>"
        f'for (const src of ["/one.png", "/two.png", "{evil}", "/hop.png"]) {{'
        "  const img = new Image(); img.src = src; document.body.appendChild(img); }"
        "</script></body>"
    )
    web.routes["/one.png"], web.routes["/two.png"] = media(png("red")), media(png("blue"))
    hidden = inner.url("/hidden.png")
    web.routes["/hop.png"] = lambda h: reply(h, status=302, headers={"Location": hidden})
    result = render_page(web.url("/"), policy(), chromium=CHROMIUM, timeout=30)
    assert result.error is None and result.title == "Scripted"
    assert names(result) == ["one.png", "two.png"]
    assert {item.source for item, _ in result.media} == {"render"}
    # Asked directly, and at the end of a redirect (each hop is checked again).
    assert sorted(result.refused) == sorted([evil, hidden])
    assert all(e.error == "FetchRefused" and "loopback" in e.message for e in result.errors)
    assert inner.requests == []
    assert "/hop.png" in [path for path, _ in web.requests]


def test_lazy_images_load_as_the_page_scrolls_and_the_screenshot_is_full_page(
    web: LoopbackServer,
) -> None:
    web.routes["/"] = page(
        '<body style="margin:0"><div style="height:5000px">top</div>'
        '<img id="late" data-src="/late.png" width="10" height="10"><script>'
        "new IntersectionObserver((entries) => { for (const e of entries) {"
        "  if (e.isIntersecting) e.target.src = e.target.dataset.src; } })"
        '.observe(document.getElementById("late"));'
        "</script></body>"
    )
    web.routes["/late.png"] = media(png("green"))
    result = render_page(web.url("/"), policy(), chromium=CHROMIUM, timeout=30)
    assert result.error is None and names(result) == ["late.png"]
    assert result.screenshot is not None
    from io import BytesIO

    shot = Image.open(BytesIO(result.screenshot))
    assert shot.format == "PNG" and shot.height >= 5000


def test_scripts_cannot_send_requests_other_than_get(web: LoopbackServer) -> None:
    web.routes["/"] = page(
        '<script>fetch("/submit", {method: "POST", body: "x"}).catch(() => {});</script>'
    )
    result = render_page(web.url("/"), policy(), chromium=CHROMIUM, timeout=30)
    assert result.error is None
    assert [(e.error, e.message) for e in result.errors] == [
        ("Refused", "POST requests are not sent")
    ]
    assert [path for path, _ in web.requests] == ["/"]


def test_a_refused_page_is_a_render_error_not_an_exception(inner: LoopbackServer) -> None:
    result = render_page(inner.url("/"), policy(), chromium=CHROMIUM, timeout=30)
    assert result.error is not None and result.screenshot is None
    assert result.refused == [inner.url("/")] and inner.requests == []


def test_a_redirected_page_opens_at_its_final_url(web: LoopbackServer) -> None:
    web.routes["/start"] = lambda h: reply(h, status=302, headers={"Location": "/real/"})
    web.routes["/real/"] = page(
        '<script>const i = new Image(); i.src = "pic.png"; document.body.append(i);</script>'
    )
    web.routes["/real/pic.png"] = media(png("orange"))
    result = render_page(web.url("/start"), policy(), chromium=CHROMIUM, timeout=30)
    assert result.error is None and result.final_url == web.url("/real/")
    assert [item.url for item, _ in result.media] == [web.url("/real/pic.png")]
    assert [path for path, _ in web.requests].count("/real/") == 1  # fetched once
