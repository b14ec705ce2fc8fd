"""The crawler follows a gallery's other pages on the same site (engine.py, lib/pagination.py).

Every site here is served on 127.0.0.1; names such as `www.gallery.test`
and `other.test` resolve to it through the fetch policy's resolver, so a
link the crawler should not follow would still reach the server and show.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from PIL import Image

from openhotline.crawler.engine import CrawlPolicy, crawl
from openhotline.lib.netcheck import parse_allow_list
from openhotline.lib.pagination import NEXT_SCORE, NUMBER_SCORE, pagination_score
from openhotline.lib.safehttp import FetchPolicy
from openhotline.lib.samesite import same_site
from tests.support.loopback import LoopbackServer, Route, reply, serve


def png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(out, "PNG")
    return out.getvalue()


def html(body: str | bytes, content_type: str | None = "text/html; charset=utf-8") -> Route:
    data = body.encode() if isinstance(body, str) else body
    return lambda h: reply(h, data, content_type=content_type)


def image(color: str) -> Route:
    data = png(color)
    return lambda h: reply(h, data, content_type="image/png")


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with serve({}) as server:
        yield server


def policy(**kwargs: object) -> CrawlPolicy:
    answers = {"www.gallery.test", "img.gallery.test", "other.test"}

    def resolve(host: str, port: int) -> list[str]:
        if host in answers:
            return ["127.0.0.1"]
        raise OSError(f"{host} does not resolve")

    fetch = FetchPolicy(allow=parse_allow_list("127.0.0.1"), resolver=resolve)
    return CrawlPolicy(fetch=fetch, **{"workers": 4, **kwargs})  # type: ignore[arg-type]


def paths(server: LoopbackServer) -> list[str]:
    return [path for path, _ in server.requests]


def gallery_site(site: LoopbackServer) -> str:
    """A four-page gallery on www.gallery.test with an "about" page and an off-site link."""
    port = site.port

    def pages(h: BaseHTTPRequestHandler) -> None:
        number = h.path.partition("?page=")[2] or "1"
        links = {
            "1": '<a href="/about">About us</a> <a href="/tags/red">red</a>'
            f' <a href="http://other.test:{port}/gallery/">Friends</a>'
            ' <a href="/gallery/?page=2">2</a> <a href="/gallery/?page=2" rel="next">Next</a>',
            "2": '<a href="/gallery/?page=1">1</a> <a href="/gallery/?page=3">›</a>',
            "3": '<a href="/gallery/?page=4">Next page</a>',
            "4": "",
        }[number]
        body = f"<title>Page {number}</title><img src='/img/{number}.png'> {links}"
        reply(h, body.encode())

    site.routes["/gallery/"] = pages
    for number, color in zip("1234", ("red", "green", "blue", "white"), strict=True):
        site.routes[f"/img/{number}.png"] = image(color)
    site.routes["/about"] = html("<img src='/img/about.png'>")
    site.routes["/img/about.png"] = image("black")
    site.routes["/tags/red"] = html("<img src='/img/tag.png'>")
    site.routes["/img/tag.png"] = image("yellow")
    return f"http://www.gallery.test:{port}/gallery/"


def test_pagination_words_numbers_and_urls_score_above_plain_links() -> None:
    assert pagination_score("http://a.test/x", rel="next") == NEXT_SCORE
    assert pagination_score("http://a.test/x", text="Next »") == NEXT_SCORE
    assert pagination_score("http://a.test/x", text="»") == NEXT_SCORE
    assert pagination_score("http://a.test/x", text="7") == NUMBER_SCORE
    assert pagination_score("http://a.test/list?page=3", text="more photos!") == NUMBER_SCORE
    assert pagination_score("http://a.test/list/page/3/", text="") == NUMBER_SCORE
    assert pagination_score("http://a.test/about", text="About us") == 0


def test_same_site_is_the_registrable_domain_and_shared_hosts_stay_apart() -> None:
    assert same_site("http://www.gallery.test/a", "https://img.gallery.test/b")
    assert same_site("http://www.example.co.uk/", "http://example.co.uk/x")
    assert not same_site("http://example.co.uk/", "http://other.co.uk/")
    assert same_site("https://alice.github.io/a", "https://www.alice.github.io/b")
    assert not same_site("https://alice.github.io/", "https://bob.github.io/")
    assert not same_site("http://127.0.0.1:1/", "http://127.0.0.2:1/")
    assert same_site("http://127.0.0.1:1/", "http://127.0.0.1:2/")


def test_a_gallery_is_followed_pagination_first_within_the_page_budget(
    site: LoopbackServer,
) -> None:
    url = gallery_site(site)
    result = crawl(url, policy(follow_depth=1, max_followed_pages=1))
    assert [(p.kind, p.url) for p in result.pages] == [("page", url), ("linked", f"{url}?page=2")]
    assert "/about" not in paths(site) and "/tags/red" not in paths(site)
    assert any("page budget 1" in e.message for e in result.errors if e.stage == "limit")
    assert {item.url.rsplit("/", 1)[1]: item.page for item in result.media} == {
        "1.png": url,
        "2.png": f"{url}?page=2",
    }


def test_depth_and_budget_decide_how_far_and_off_site_links_are_never_followed(
    site: LoopbackServer,
) -> None:
    url = gallery_site(site)
    result = crawl(url, policy(follow_depth=3, max_followed_pages=20))
    followed = [p.url for p in result.pages if p.kind == "linked"]
    # Each level: pagination ("›" before a page number) before plain links, in page order.
    assert followed == [
        f"{url}?page=2",
        f"http://www.gallery.test:{site.port}/about",
        f"http://www.gallery.test:{site.port}/tags/red",
        f"{url}?page=3",
        f"{url}?page=1",
        f"{url}?page=4",
    ]
    # other.test is another site: never asked for, though it would have answered.
    assert all(
        headers.get("host", "").split(":")[0] != "other.test" for _, headers in site.requests
    )
    pages_of = {item.url.rsplit("/", 1)[1]: item.page for item in result.media}
    assert pages_of["4.png"] == f"{url}?page=4"
    assert len(result.media) == 6 and all(item.error is None for item in result.media)

    for off in (policy(follow_depth=0), policy(max_followed_pages=0)):
        none = crawl(url, off)
        assert [p.kind for p in none.pages] == ["page"]
        assert not [e for e in none.errors if e.stage == "limit"]


def test_a_followed_page_is_resolved_against_its_own_base_href(site: LoopbackServer) -> None:
    site.routes["/start"] = html(
        '<base href="/album/"><a href="second.html">next</a><img src="cover.png">'
    )
    site.routes["/album/cover.png"] = image("red")
    site.routes["/album/second.html"] = html(
        f'<base href="http://img.gallery.test:{site.port}/files/"><img src="photo.png">'
    )
    site.routes["/files/photo.png"] = image("green")
    url = f"http://www.gallery.test:{site.port}/start"
    result = crawl(url, policy())
    second = f"http://www.gallery.test:{site.port}/album/second.html"
    assert [p.url for p in result.pages] == [url, second]
    assert {item.url: item.page for item in result.media} == {
        f"http://www.gallery.test:{site.port}/album/cover.png": url,
        f"http://img.gallery.test:{site.port}/files/photo.png": second,
    }
    assert all(item.error is None for item in result.media)


def test_a_followed_latin1_page_is_decoded_by_its_declared_charset(site: LoopbackServer) -> None:
    site.routes["/"] = html('<a href="/galeria" rel="next">siguiente</a>')
    # Declared in the header on one page, only in a <meta> on the next. Paths
    # are sent as UTF-8 whatever the page's charset, as browsers do.
    site.routes["/galeria"] = html(
        "<title>Galería de fotos</title><img src='/fotos/niño.png'>"
        "<a href='/pagina-3'>»</a>".encode("latin-1"),
        content_type="text/html; charset=ISO-8859-1",
    )
    site.routes["/pagina-3"] = html(
        "<meta charset='iso-8859-1'><title>Página 3, señal</title>"
        "<img src='/fotos/señal.png'>".encode("latin-1"),
        content_type="text/html",
    )
    site.routes["/fotos/ni%C3%B1o.png"] = image("red")
    site.routes["/fotos/se%C3%B1al.png"] = image("blue")
    result = crawl(site.url("/"), policy(follow_depth=2))
    titles = {p.url.rsplit("/", 1)[1]: (p.kind, p.title, p.encoding) for p in result.pages}
    assert titles["galeria"] == ("linked", "Galería de fotos", "cp1252")
    assert titles["pagina-3"] == ("linked", "Página 3, señal", "cp1252")
    fetched = {item.url.rsplit("/", 1)[1] for item in result.media if item.error is None}
    assert fetched == {"ni%C3%B1o.png", "se%C3%B1al.png"}


def test_a_followed_page_that_redirects_off_the_site_is_not_followed_further(
    site: LoopbackServer,
) -> None:
    port = site.port
    site.routes["/"] = html('<a href="/go">next</a>')
    site.routes["/go"] = lambda h: reply(
        h, b"", status=302, headers={"Location": f"http://other.test:{port}/elsewhere"}
    )
    site.routes["/elsewhere"] = html('<img src="/e.png"><a href="/deeper">next</a>')
    site.routes["/e.png"] = image("red")
    site.routes["/deeper"] = html('<img src="/d.png">')
    result = crawl(f"http://www.gallery.test:{port}/", policy(follow_depth=3))
    assert "/deeper" not in paths(site)
    assert [p.kind for p in result.pages] == ["page", "linked"]


def test_links_to_downloads_and_feeds_are_not_followed_as_pages(site: LoopbackServer) -> None:
    site.routes["/"] = html(
        '<a href="/album.zip" rel="next">Download all</a> <a href="/feed.rss">RSS</a>'
        ' <a href="/Brochure.PDF">2</a> <a href="/page/2">2</a>'
    )
    for path in ("/album.zip", "/feed.rss", "/Brochure.PDF"):
        site.routes[path] = html("<img src='/download.png'>")
    site.routes["/page/2"] = html("<img src='/2.png'>")
    site.routes["/2.png"] = image("red")
    url = f"http://www.gallery.test:{site.port}/"
    result = crawl(url, policy())
    assert [p.url for p in result.pages] == [url, f"{url}page/2"]
    assert paths(site) == ["/", "/page/2", "/2.png"]


def test_past_the_byte_budget_no_further_page_is_fetched(site: LoopbackServer) -> None:
    url = gallery_site(site)
    # The reported page alone (about 250 bytes) uses up a 100-byte budget.
    result = crawl(url, policy(byte_budget=100))
    assert [p.url for p in result.pages] == [url]
    assert paths(site)[0] == "/gallery/" and "/gallery/?page=2" not in paths(site)
    limits = [e.message for e in result.errors if e.stage == "limit"]
    assert any("byte budget of 100 bytes used up" in m for m in limits)
    # ?page=2, /about and /tags/red; other.test is no page of the site.
    assert any(m.startswith("3 pages, frames or stylesheets not fetched") for m in limits)
    # With room, the same gallery's pages are followed.
    assert len(crawl(url, policy(byte_budget=1_000_000)).pages) == 4


def test_a_page_the_policy_refuses_is_not_followed_and_the_crawl_says_so(
    site: LoopbackServer,
) -> None:
    url = gallery_site(site)
    refused = {f"{url}?page=2"}
    result = crawl(url, policy(may_follow=lambda link: link not in refused))
    followed = [p.url for p in result.pages if p.kind == "linked"]
    assert f"{url}?page=2" not in followed and len(followed) == 2
    assert "/gallery/?page=2" not in paths(site)
    [rule] = [e for e in result.errors if e.stage == "rule"]
    assert rule.error == "DomainRule" and rule.message.startswith("1 same-site pages not followed")
