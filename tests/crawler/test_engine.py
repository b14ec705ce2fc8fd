"""The crawl engine against hostile and odd sites served on 127.0.0.1.

Each case must give a recorded error or a partial result, never an exception.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from PIL import Image

from openhotline.crawler.engine import Crawler, CrawlPolicy, crawl
from openhotline.crawler.results import CrawlProgress, MediaItem
from openhotline.lib.netcheck import parse_allow_list
from openhotline.lib.safehttp import FetchPolicy
from tests.support.loopback import LoopbackServer, Route, reply, serve


def image(color: str, fmt: str = "PNG", size: tuple[int, int] = (4, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def media_route(data: bytes, content_type: str | None = "image/png") -> Route:
    return lambda h: reply(h, data, content_type=content_type)


def page_route(html: str | bytes, content_type: str | None = "text/html; charset=utf-8") -> Route:
    body = html.encode() if isinstance(html, str) else html
    return lambda h: reply(h, body, content_type=content_type)


def policy(**kwargs: object) -> CrawlPolicy:
    fetch_kwargs = {k[6:]: kwargs.pop(k) for k in list(kwargs) if k.startswith("fetch_")}
    fetch = FetchPolicy(allow=parse_allow_list("127.0.0.1"), **fetch_kwargs)  # type: ignore[arg-type]
    return CrawlPolicy(fetch=fetch, **{"workers": 8, **kwargs})  # type: ignore[arg-type]


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with serve({}) as server:
        yield server


def by_name(items: list[MediaItem]) -> dict[str, MediaItem]:
    return {item.url.rsplit("/", 1)[1]: item for item in items if not item.url.startswith("data:")}


def test_it_finds_and_fetches_every_kind_of_media(site: LoopbackServer) -> None:
    images = {
        name: image(color)
        for name, color in [
            ("img.png", "red"),
            ("s1.png", "green"),
            ("s2.png", "blue"),
            ("lazy.png", "white"),
            ("pic.png", "black"),
            ("bg.png", "yellow"),
            ("style.png", "cyan"),
            ("css.png", "magenta"),
            ("og.png", "gray"),
            ("poster.png", "orange"),
            ("linked.png", "purple"),
            ("imp.png", "pink"),
        ]
    }
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 100
    inline = image("brown")
    site.routes.update({f"/m/{name}": media_route(data) for name, data in images.items()})
    site.routes["/m/clip.mp4"] = media_route(video, "video/mp4")
    site.routes["/css/site.css"] = page_route(
        '@import "more.css"; .a { background: url(../m/css.png) }', "text/css"
    )
    site.routes["/css/more.css"] = page_route(".b { background: url('/m/imp.png') }", "text/css")
    site.routes["/"] = page_route(f"""<!doctype html><html><head><title>Gallery</title>
      <meta property="og:image" content="/m/og.png"><link rel=stylesheet href="/css/site.css">
      <style>.h {{ background-image: url("/m/style.png") }}</style></head><body>
      <img src="/m/img.png" srcset="/m/s1.png 1x, /m/s2.png 2x">
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/m/lazy.png">
      <picture><source srcset="/m/pic.png"><img src="/m/img.png"></picture>
      <div style="background:url(/m/bg.png)"></div>
      <video poster="/m/poster.png"><source src="/m/clip.mp4" type="video/mp4"></video>
      <a href="/m/linked.png">full size</a>
      <img src="data:image/png;base64,{base64.b64encode(inline).decode()}">
    </body></html>""")
    progress: list[CrawlProgress] = []
    result = crawl(site.url("/"), policy(), progress=progress.append)

    assert result.errors == [] and result.fatal_error is None
    fetched = by_name(result.media)
    assert set(fetched) == set(images) | {"clip.mp4"}
    for name, data in images.items():
        item = fetched[name]
        assert item.size == len(data) and item.mime == "image/png" and item.error is None
        assert item.sha256 == hashlib.sha256(data).hexdigest() and item.data == data
    assert fetched["clip.mp4"].mime == "video/mp4"
    assert fetched["css.png"].found_on == site.url("/css/site.css")
    inline_items = [i for i in result.media if i.url.startswith("data:")]
    assert {i.sha256 for i in inline_items} == {
        hashlib.sha256(inline).hexdigest(),
        hashlib.sha256(base64.b64decode("R0lGODlhAQABAAAAACw=")).hexdigest(),
    }
    page = result.pages[0]
    assert (page.kind, page.status, page.title, page.address) == (
        "page",
        200,
        "Gallery",
        "127.0.0.1",
    )
    assert page.body.startswith(b"<!doctype html>") and page.fetched_at is not None
    assert [p.kind for p in result.pages[1:]] == ["stylesheet", "stylesheet"]
    assert progress[-1] == CrawlProgress(pages=3, media_found=15, media_fetched=15)
    assert result.as_json()["media"][0]["sha256"]


def test_a_url_that_is_itself_an_image_is_the_only_item(site: LoopbackServer) -> None:
    data = image("red", "JPEG")
    site.routes["/photo"] = media_route(data, content_type="application/octet-stream")
    result = crawl(site.url("/photo"), policy())
    assert result.is_media
    assert [(m.url, m.mime, m.size, m.source) for m in result.media] == [
        (site.url("/photo"), "image/jpeg", len(data), "url")
    ]


def test_a_frame_or_viewer_link_that_is_an_image_becomes_a_media_item(
    site: LoopbackServer,
) -> None:
    site.routes["/"] = page_route(
        '<iframe src="/frame"></iframe><a href="/v/1"><img src="/t.png"></a>'
    )
    site.routes["/frame"] = media_route(image("red", "GIF"), content_type="text/html")
    site.routes["/v/1"] = media_route(image("blue", "JPEG"), content_type="text/html")
    site.routes["/t.png"] = media_route(image("green"))
    result = crawl(site.url("/"), policy())
    assert not result.is_media
    assert sorted((m.url, m.mime, m.source, m.found_on) for m in result.media) == [
        (site.url("/frame"), "image/gif", "iframe", site.url("/")),
        (site.url("/t.png"), "image/png", "img", site.url("/")),
        (site.url("/v/1"), "image/jpeg", "viewer", site.url("/")),
    ]


def test_wrong_or_missing_content_types_are_ignored(site: LoopbackServer) -> None:
    site.routes["/"] = page_route('<img src="/a"><img src="/b">', content_type="image/jpeg")
    site.routes["/a"] = media_route(image("red"), content_type="text/html")
    site.routes["/b"] = media_route(image("blue", "GIF"), content_type=None)
    result = crawl(site.url("/"), policy())
    assert not result.is_media
    assert [(m.url[-2:], m.mime, m.declared_type) for m in result.media] == [
        ("/a", "image/png", "text/html"),
        ("/b", "image/gif", None),
    ]


def test_a_page_link_posing_as_an_image_is_flagged_not_kept_as_media(site: LoopbackServer) -> None:
    site.routes["/"] = page_route('<img src="/fake.jpg">')
    site.routes["/fake.jpg"] = page_route("<html><body>hotlink denied</body></html>", "image/jpeg")
    item = crawl(site.url("/"), policy()).media[0]
    assert item.mime == "text/html" and "not an image" in (item.error or "")


def test_malformed_html_gives_the_media_it_has(site: LoopbackServer) -> None:
    site.routes["/"] = page_route(
        b"<html><body <table><tr><img src=/ok.png><p><b><<img src='/ok2.png'"
    )
    site.routes["/ok.png"] = media_route(image("red"))
    result = crawl(site.url("/"), policy())
    assert [m.url for m in result.media] == [site.url("/ok.png")]


def test_a_non_utf8_page_is_decoded(site: LoopbackServer) -> None:
    html = '<title>Ca\u00f1\u00f3n \u2013 fotos</title><img src="/a.png">'.encode("cp1252")
    site.routes["/"] = page_route(html, "text/html; charset=windows-1252")
    site.routes["/a.png"] = media_route(image("red"))
    sjis = '<meta charset="shift_jis"><title>\u5199\u771f</title><img src="/a.png">'
    site.routes["/jp"] = page_route(sjis.encode("shift_jis"), "text/html")
    result = crawl(site.url("/"), policy())
    assert (result.pages[0].title, result.pages[0].encoding) == (
        "Ca\u00f1\u00f3n \u2013 fotos",
        "cp1252",
    )
    assert len(result.media) == 1
    japanese = crawl(site.url("/jp"), policy())
    assert (japanese.pages[0].title, japanese.pages[0].encoding) == ("\u5199\u771f", "shift_jis")


def test_a_redirect_loop_is_recorded_and_the_rest_is_kept(site: LoopbackServer) -> None:
    site.routes["/"] = page_route('<img src="/loop.png"><img src="/ok.png">')
    site.routes["/loop.png"] = lambda h: reply(h, status=302, headers={"Location": "/loop.png"})
    site.routes["/ok.png"] = media_route(image("red"))
    result = crawl(site.url("/"), policy(fetch_max_redirects=3))
    items = by_name(result.media)
    assert items["ok.png"].error is None
    assert "FetchTooManyRedirects" in (items["loop.png"].error or "")
    assert [(e.stage, e.error) for e in result.errors] == [("media", "FetchTooManyRedirects")]


def test_a_redirect_loop_on_the_page_itself_is_a_fatal_error(site: LoopbackServer) -> None:
    site.routes["/"] = lambda h: reply(h, status=301, headers={"Location": "/"})
    result = crawl(site.url("/"), policy(fetch_max_redirects=3))
    assert result.fatal_error is not None and result.fatal_error.error == "FetchTooManyRedirects"
    assert result.media == []


def test_a_slow_drip_media_item_times_out_alone(site: LoopbackServer) -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b"\x89")
            h.wfile.flush()
            time.sleep(0.01)

    site.routes["/"] = page_route('<img src="/slow.png"><img src="/fast.png">')
    site.routes["/slow.png"] = slow
    site.routes["/fast.png"] = media_route(image("red"))
    started = time.monotonic()
    result = crawl(site.url("/"), policy(fetch_deadline=1.0))
    assert time.monotonic() - started < 3
    items = by_name(result.media)
    assert items["fast.png"].error is None
    assert items["slow.png"].truncated and "FetchTimeout" in (items["slow.png"].error or "")


def test_a_truncated_download_is_an_error_with_its_sizes_and_never_handed_on(
    site: LoopbackServer,
) -> None:
    data = image("red")

    def cut(h: BaseHTTPRequestHandler) -> None:
        reply(h, data[:20], length=len(data), content_type="image/png")
        h.close_connection = True

    site.routes["/"] = page_route('<img src="/cut.png">')
    site.routes["/cut.png"] = cut
    handed: list[MediaItem] = []
    item = crawl(site.url("/"), policy(), sink=lambda i, _: handed.append(i)).media[0]
    assert handed == []  # a cut-short file is not the file the page showed
    assert item.truncated and item.size == 20 and item.mime == "image/png"
    assert item.sha256 == "" and item.data is None
    assert (item.received, item.declared_length) == (20, len(data))
    assert item.error is not None and item.error.startswith("FetchProtocolError")
    assert f"received 20 bytes, decoded 20 bytes, limit {50 * 1024 * 1024} bytes" in item.error
    assert f"declared length {len(data)} bytes" in item.error


def test_gzip_bombs_with_a_png_header_are_refused_early_and_never_handed_on(
    site: LoopbackServer,
) -> None:
    # The probe's bombs: ~60 KB on the wire, 60 MiB of "PNG" once decoded.
    bomb = gzip.compress(image("red")[:33] + b"\0" * (60 * 1024 * 1024), 9)
    site.routes["/"] = page_route("".join(f'<img src="/b{n}.png">' for n in range(8)))
    site.routes["/b*"] = lambda h: reply(
        h, bomb, headers={"Content-Encoding": "gzip"}, content_type="image/png"
    )
    handed: list[MediaItem] = []

    result = crawl(site.url("/"), policy(), sink=lambda i, _: handed.append(i))

    assert handed == [] and len(result.media) == 8
    for item in result.media:
        assert item.truncated and item.received <= len(bomb)
        # Stopped by the ratio guard (100 decoded bytes per received byte), long
        # before the 50 MiB decoded limit.
        assert item.size <= max(1 << 20, 100 * item.received) + 64 * 1024
        assert item.error is not None and "decompression bomb" in item.error
        assert f"declared length {len(bomb)} bytes" in item.error
    assert [e.error for e in result.errors] == ["FetchTooLarge"] * 8


def test_past_the_byte_budget_the_remaining_media_are_skipped_with_the_reason(
    site: LoopbackServer,
) -> None:
    site.routes["/"] = page_route("".join(f'<img src="/i/{n}.png">' for n in range(10)))
    site.routes["/i/*"] = media_route(image("red")[:33] + bytes(50_000))
    handed: list[MediaItem] = []

    result = crawl(
        site.url("/"),
        policy(byte_budget=120_000, workers=1, per_host_concurrency=1),
        sink=lambda i, _: handed.append(i),
    )

    fetched = [m for m in result.media if not m.skipped]
    skipped = [m for m in result.media if m.skipped]
    assert len(fetched) == 3 and len(handed) == 3  # the third passes the budget
    assert len(skipped) == 7 and result.media_skipped == 7
    assert all("byte budget of 120000 bytes is used up" in (m.error or "") for m in skipped)
    assert [e.stage for e in result.errors] == ["limit"]
    assert len(site.requests) == 4  # the page and three images; the rest never asked for


def test_a_gzip_bomb_page_is_cut_at_the_decoded_limit(site: LoopbackServer) -> None:
    bomb = gzip.compress(b'<img src="/a.png">' + b" " * (40 * 1024 * 1024))
    site.routes["/"] = lambda h: reply(h, bomb, headers={"Content-Encoding": "gzip"})
    site.routes["/a.png"] = media_route(image("red"))
    result = crawl(site.url("/"), policy(fetch_max_decoded_bytes=1024 * 1024))
    assert result.pages[0].truncated and len(result.pages[0].body) == 1024 * 1024
    assert result.errors[0].error == "FetchTooLarge"
    assert [m.url for m in result.media] == [site.url("/a.png")]  # the partial page still counts


def test_an_image_bomb_is_fetched_within_the_media_limit(site: LoopbackServer) -> None:
    header = image("red", size=(1, 1))[:33]  # signature + IHDR of a 1x1 PNG
    big = bytearray(header)
    big[16:24] = (200_000).to_bytes(4, "big") * 2  # claims 200000 x 200000 pixels
    bomb = bytes(big) + b"\0" * 300_000
    site.routes["/"] = page_route('<img src="/bomb.png">')
    site.routes["/bomb.png"] = media_route(bomb)
    item = crawl(site.url("/"), policy(max_media_bytes=100_000)).media[0]
    assert item.mime == "image/png" and item.size == 100_000 and item.truncated
    assert "FetchTooLarge" in (item.error or "") and "limit 100000 bytes" in (item.error or "")


def test_a_ten_thousand_image_page_respects_max_media_per_page(site: LoopbackServer) -> None:
    site.routes["/"] = page_route("".join(f'<img src="/i/{n}.png">' for n in range(10_000)))
    site.routes["/i/*"] = media_route(image("red"))
    result = crawl(site.url("/"), policy(max_media_per_page=40))
    assert result.media_found == 10_000 and result.pages[0].media_found == 10_000
    assert len(result.media) == 40 and result.media_skipped == 9_960
    assert [m.url for m in result.media] == [site.url(f"/i/{n}.png") for n in range(40)]
    assert any(e.stage == "limit" and "10000 media found" in e.message for e in result.errors)
    assert len(site.requests) == 41


def test_a_refused_page_address_is_a_fatal_error_with_the_reason() -> None:
    result = crawl("http://127.0.0.2:8080/", policy())
    assert result.fatal_error is not None
    assert result.fatal_error.error == "FetchRefused"
    assert "loopback" in result.fatal_error.message


def test_media_redirected_or_resolving_to_refused_addresses_are_refused(
    site: LoopbackServer,
) -> None:
    site.routes["/"] = page_route(
        f'<img src="/r.png"><img src="http://evil.test:{site.port}/x.png">'
        '<img src="http://127.0.0.2/direct.png"><img src="/ok.png">'
    )
    site.routes["/r.png"] = lambda h: reply(
        h, status=302, headers={"Location": f"http://127.0.0.2:{site.port}/x.png"}
    )
    site.routes["/ok.png"] = media_route(image("red"))
    answers = {"evil.test": ["10.0.0.7"]}
    result = crawl(site.url("/"), policy(fetch_resolver=lambda host, port: answers[host]))
    items = by_name(result.media)
    assert items["ok.png"].error is None
    for name in ("r.png", "x.png", "direct.png"):
        assert "FetchRefused" in (items[name].error or ""), name
    assert sorted(path for path, _ in site.requests) == ["/", "/ok.png", "/r.png"]


def test_iframes_are_followed_to_the_configured_depth(site: LoopbackServer) -> None:
    for depth in range(4):
        site.routes[f"/f{depth}"] = page_route(
            f'<img src="/img{depth}.png"><iframe src="/f{depth + 1}"></iframe>'
        )
        site.routes[f"/img{depth}.png"] = media_route(image("red"))
    result = crawl(site.url("/f0"), policy(iframe_depth=2))
    assert sorted(by_name(result.media)) == ["img0.png", "img1.png", "img2.png"]
    assert [(p.kind, p.depth) for p in result.pages] == [("page", 0), ("iframe", 1), ("iframe", 2)]


def test_viewer_pages_are_followed_for_their_main_image(site: LoopbackServer) -> None:
    thumbs = "".join(f'<a href="/view/{n}"><img src="/t/{n}.jpg"></a>' for n in range(3))
    site.routes["/"] = page_route(f"<h1>Gallery</h1>{thumbs}<a href='/about'>About</a>")
    for n in range(3):
        site.routes[f"/view/{n}"] = page_route(
            '<img src="/logo.png" width=100 height=30>'
            f'<a href="/view/{n + 1}"><img src="/t/x.jpg"></a>'
            f'<div class="photo"><img src="/full/{n}.jpg" width=1600 height=1200></div>'
        )
    site.routes["/t/*"] = media_route(image("gray", "JPEG"))
    site.routes["/full/*"] = media_route(image("red", "JPEG", (40, 30)))
    result = crawl(site.url("/"), policy(viewer_depth=1, follow_depth=0))
    names = [m.url.split(str(site.port), 1)[1] for m in result.media]
    assert names == [
        "/t/0.jpg",
        "/t/1.jpg",
        "/t/2.jpg",
        "/full/0.jpg",
        "/full/1.jpg",
        "/full/2.jpg",
    ]
    assert [p.kind for p in result.pages] == ["page", "viewer", "viewer", "viewer"]
    no_follow = crawl(site.url("/"), policy(viewer_depth=0, follow_depth=0))
    assert len(no_follow.media) == 3 and len(no_follow.pages) == 1


def test_progress_and_sink_see_every_item(site: LoopbackServer) -> None:
    site.routes["/"] = page_route("".join(f'<img src="/i/{n}.png">' for n in range(30)))
    site.routes["/i/*"] = media_route(image("red"))
    stored: list[tuple[str, int]] = []
    lock = threading.Lock()

    def sink(item: MediaItem, data: bytes) -> None:
        with lock:
            stored.append((item.sha256, len(data)))
        if item.url.endswith("/7.png"):
            raise OSError("disk full")

    seen: list[CrawlProgress] = []
    result = crawl(site.url("/"), policy(keep_bytes=False), sink=sink, progress=seen.append)
    assert len(stored) == 30 and all(item.data is None for item in result.media)
    assert [(e.stage, e.message) for e in result.errors] == [("sink", "disk full")]
    assert seen[-1] == CrawlProgress(pages=1, media_found=30, media_fetched=30)


def test_per_host_concurrency_is_limited(site: LoopbackServer) -> None:
    state = {"now": 0, "peak": 0}
    lock = threading.Lock()
    data = image("red")

    def counted(h: BaseHTTPRequestHandler) -> None:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        reply(h, data, content_type="image/png")

    site.routes["/"] = page_route("".join(f'<img src="/c/{n}.png">' for n in range(24)))
    site.routes["/c/*"] = counted
    with Crawler(policy(per_host_concurrency=3)) as crawler:
        result = crawler.crawl(site.url("/"))
    assert len(result.media) == 24 and all(m.error is None for m in result.media)
    assert 2 <= state["peak"] <= 3
