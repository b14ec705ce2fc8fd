"""Media discovery in HTML and CSS: every markup pattern, encodings, bad markup."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from openhotline.lib.htmlcharset import decode_text, detect_encoding
from openhotline.lib.htmlmedia import css_urls, extract_css_media, extract_media, parse_srcset
from openhotline.lib.netcheck import parse_allow_list
from openhotline.lib.safehttp import FetchPolicy, fetch
from tests.support.loopback import reply, serve

PAGE = "http://site.test/gallery/page.html"


def png_bytes(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), color).save(out, "PNG")
    return out.getvalue()


def urls(html: str | bytes, page: str = PAGE) -> list[str]:
    body = html.encode() if isinstance(html, str) else html
    return [ref.url for ref in extract_media(body, page).media]


def test_it_finds_img_src_and_srcset() -> None:
    html = '<img src="a.jpg" srcset="a-480.jpg 480w, /img/a-800.jpg 800w">'
    assert urls(html) == [
        "http://site.test/gallery/a.jpg",
        "http://site.test/gallery/a-480.jpg",
        "http://site.test/img/a-800.jpg",
    ]


def test_srcset_parsing_keeps_commas_inside_urls() -> None:
    value = " a,1.jpg 1x,b.jpg  2x , c.jpg (min 1) 3x,, d.jpg, data:image/png;base64,AAA 4x"
    assert parse_srcset(value) == [
        "a,1.jpg",
        "b.jpg",
        "c.jpg",
        "d.jpg",
        "data:image/png;base64,AAA",
    ]
    # As in browsers, a comma with no space after a URL does not end it.
    assert parse_srcset("e.jpg,f.jpg 2x") == ["e.jpg,f.jpg"]


def test_it_finds_picture_video_audio_and_poster() -> None:
    html = """
    <picture><source srcset="p.avif" type="image/avif"><source srcset="p.webp 1x">
      <img src="p.jpg"></picture>
    <video src="clip.mp4" poster="poster.jpg"><source src="clip.webm" type="video/webm"></video>
    <audio><source src="sound.mp3"></audio>
    """
    found = {
        ref.url.rsplit("/", 1)[1]: (ref.kind, ref.source)
        for ref in extract_media(html.encode(), PAGE).media
    }
    assert found == {
        "p.avif": ("image", "picture"),
        "p.webp": ("image", "picture"),
        "p.jpg": ("image", "img"),
        "clip.mp4": ("video", "video"),
        "poster.jpg": ("image", "poster"),
        "clip.webm": ("video", "source"),
        "sound.mp3": ("audio", "source"),
    }


def test_it_finds_links_to_media_files_only() -> None:
    html = """<a href="full/1.JPG">one</a><a href="movie.mp4?x=1">m</a>
    <a href="about.html">about</a><a href="/view/2">view</a><a href="javascript:void(0)">js</a>"""
    assert urls(html) == [
        "http://site.test/gallery/full/1.JPG",
        "http://site.test/gallery/movie.mp4?x=1",
    ]


@pytest.mark.parametrize(
    "attribute",
    [
        "data-src",
        "data-original",
        "data-lazy-src",
        "data-lazyload",
        "data-srcset",
        "data-lazy-srcset",
    ],
)
def test_it_finds_lazy_loading_attributes(attribute: str) -> None:
    html = f'<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" {attribute}="/big/real.jpg">'
    assert "http://site.test/big/real.jpg" in urls(html)


def test_it_finds_css_backgrounds_inline_and_in_style_elements() -> None:
    html = """<style>
      /* url(commented.png) */
      @font-face { font-family: x; src: url(font.woff2) format("woff2"); }
      .hero { background-image: url("hero.jpg"); }
      .alt { background: #000 url('alt.png') no-repeat; }
      .set { background-image: image-set("set-1x.png" 1x, url(set-2x.png) 2x); }
    </style>
    <div style="background-image:url(inline.webp)"></div>
    <span style="background: url(&quot;quoted.gif&quot;)"></span>"""
    assert sorted(u.rsplit("/", 1)[1] for u in urls(html)) == [
        "alt.png",
        "hero.jpg",
        "inline.webp",
        "quoted.gif",
        "set-1x.png",
        "set-2x.png",
    ]


def test_it_returns_stylesheets_and_css_url_extraction_resolves_against_the_sheet() -> None:
    html = '<link rel="stylesheet" href="/css/site.css"><style>@import "more.css";</style>'
    page = extract_media(html.encode(), PAGE)
    assert page.stylesheets == [
        "http://site.test/css/site.css",
        "http://site.test/gallery/more.css",
    ]
    css = """@import url(print.css) print;
    .a { background: url(../img/bg.png) } .b { src: url(x.woff) } .c { cursor: url(c.cur), auto }"""
    media, imports = css_urls(css, "http://site.test/css/site.css")
    assert imports == ["http://site.test/css/print.css"]
    assert media == ["http://site.test/img/bg.png", "http://site.test/css/c.cur"]


def test_it_finds_open_graph_and_twitter_images() -> None:
    html = """<meta property="og:image" content="https://cdn.test/og.jpg">
    <meta name="twitter:image" content="/tw.png"><meta property="og:video" content="/v.mp4">
    <meta name="description" content="/not-media.jpg">"""
    page = extract_media(html.encode(), PAGE)
    assert [(r.url, r.kind, r.source) for r in page.media] == [
        ("https://cdn.test/og.jpg", "image", "meta"),
        ("http://site.test/tw.png", "image", "meta"),
        ("http://site.test/v.mp4", "video", "meta"),
    ]


def test_data_uris_are_decoded_into_media_of_their_own() -> None:
    png = png_bytes()
    encoded = base64.b64encode(png).decode()
    html = f"""<img src="data:image/png;base64,{encoded}">
    <div style="background:url('data:image/png;base64,{encoded}')"></div>
    <img src="data:text/html,<b>not media</b>"><img src="data:image/png;base64,!!!">"""
    refs = extract_media(html.encode(), PAGE).media
    assert len(refs) == 1  # the same picture twice is one item; non-media is dropped
    assert (
        refs[0].data == png and refs[0].kind == "image" and refs[0].url.startswith("data:image/png")
    )


def test_oversized_data_uris_are_skipped() -> None:
    encoded = base64.b64encode(png_bytes() + b"\0" * 5000).decode()
    html = f'<img src="data:image/png;base64,{encoded}">'
    assert extract_media(html.encode(), PAGE, max_data_uri_bytes=1000).media == []
    assert len(extract_media(html.encode(), PAGE).media) == 1


def test_base_href_and_relative_urls_are_resolved() -> None:
    html = """<head><base href="https://static.test/assets/"><base href="/ignored/"></head>
    <img src="a.png"><img src="/root.png"><img src="//other.test/p.png"><img src="../up.png">
    <img src=" \n spaced.png\t"><img src="#frag"><img src="mailto:x@y.test">"""
    assert urls(html) == [
        "https://static.test/assets/a.png",
        "https://static.test/root.png",
        "https://other.test/p.png",
        "https://static.test/up.png",
        "https://static.test/assets/spaced.png",
    ]


def test_iframes_are_returned_for_the_engine_to_follow() -> None:
    html = '<iframe src="/embed/1"></iframe><iframe src="javascript:1"></iframe>'
    assert extract_media(html.encode(), PAGE).iframes == ["http://site.test/embed/1"]
    frameset = '<frameset><frame src="f.html"><frame src="/g.html"></frameset>'
    assert extract_media(frameset.encode(), PAGE).iframes == [
        "http://site.test/gallery/f.html",
        "http://site.test/g.html",
    ]


def test_viewer_links_are_same_site_thumbnail_links() -> None:
    html = """<a href="/v/abc"><img src="/t/abc.jpg"></a>
    <a href="https://www.site.test/v/def"><div><img src="/t/def.jpg"></div></a>
    <a href="https://elsewhere.test/v/ghi"><img src="/t/ghi.jpg"></a>
    <a href="/full/jkl.jpg"><img src="/t/jkl.jpg"></a>
    <a href="/about">About us</a>"""
    assert extract_media(html.encode(), PAGE).viewer_links == [
        "http://site.test/v/abc",
        "https://www.site.test/v/def",
    ]


def test_main_media_of_a_viewer_page_is_the_largest_image() -> None:
    html = """<img src="/logo.png" width="120" height="40">
    <div id="main-image"><img src="/full/abc.jpg" width="1200" height="900"></div>
    <a href="/v/next"><img src="/t/next.jpg" width="150" height="150"></a>"""
    page = extract_media(html.encode(), PAGE)
    assert [ref.url for ref in page.main_media] == ["http://site.test/full/abc.jpg"]


def test_malformed_html_still_yields_its_media() -> None:
    html = b"""<html><body <div><table><tr><td><img src=one.jpg>
    <p><b><i><img src='two.png'></b></i><<<>>><img src=three.gif /><img src="f\x00our.jpg">
    </table></table></div></span><img SRC = "five.png"><img src="six.png" alt="unclosed>
    <script>document.write("<img src='not-parsed.jpg'>")</script><!-- <img src=comment.jpg> -->
    <img src="seven.png" <img src="eight.png"><img src="last.png" alt="never closed"""
    found = [u.rsplit("/", 1)[1] for u in urls(html)]
    assert found[:5] == ["one.jpg", "two.png", "three.gif", "f%EF%BF%BDour.jpg", "five.png"]
    assert "six.png" in found and "seven.png" in found
    assert "not-parsed.jpg" not in found and "comment.jpg" not in found


def test_non_ascii_urls_are_percent_encoded_like_a_browser() -> None:
    html = '<img src="/caf\u00e9 1.jpg?q=\u00fc"><img src="http://b\u00fccher.test/x.png">'
    assert urls(html) == [
        "http://site.test/caf%C3%A9%201.jpg?q=%C3%BC",
        "http://xn--bcher-kva.test/x.png",
    ]


def test_empty_and_binary_bodies_do_not_crash() -> None:
    assert extract_media(b"", PAGE).media == []
    assert extract_media(bytes(range(256)) * 10, PAGE).media == []


def test_title_is_extracted_and_normalised() -> None:
    page = extract_media(b"<title>\n  Some   page </title>", PAGE)
    assert page.title == "Some page"


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (
            "Caf\u00e9 \u2013 na\u00efve".encode("cp1252"),
            "text/html; charset=windows-1252",
            "cp1252",
        ),
        ("Caf\u00e9".encode("cp1252"), "text/html; charset=ISO-8859-1", "cp1252"),
        (b'<meta charset="shift_jis">' + "\u753b\u50cf".encode("shift_jis"), None, "shift_jis"),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            + "\u56fe\u7247".encode("gbk"),
            "text/html",
            "gbk",
        ),
        ("\ufeff<p>bom</p>".encode("utf-16-le"), "text/html; charset=windows-1252", "utf-16-le"),
        ("<p>d\u00e9j\u00e0</p>".encode(), None, "utf-8"),
        (
            "<p>d\u00e9j\u00e0 vu, na\u00efve caf\u00e9 \u00e0 la cr\u00e8me</p>".encode("cp1252"),
            None,
            None,
        ),
    ],
)
def test_encoding_detection(body: bytes, header: str | None, expected: str | None) -> None:
    found = detect_encoding(body, header)
    if expected is not None:
        assert found == expected
    else:  # undeclared non-UTF-8: any single-byte Western guess decodes it right
        assert "d\u00e9j\u00e0" in body.decode(found)


def test_a_body_cut_inside_a_utf8_character_is_still_utf8() -> None:
    body = "<p>\u00e9t\u00e9 \u753b</p>".encode()[:-5]
    assert detect_encoding(body) == "utf-8"


def test_non_utf8_page_served_on_loopback_keeps_its_text_and_urls() -> None:
    html = '<title>Gal\u00e9rie \u2013 \u00e9t\u00e9</title><img src="/photo.png">'.encode("cp1252")
    sjis = (
        '<meta charset="Shift_JIS"><title>\u753b\u50cf\u30ae\u30e3\u30e9\u30ea\u30fc</title>'
        '<img src="/jp.png">'
    ).encode("shift_jis")
    routes = {
        "/fr": lambda h: reply(h, html, content_type="text/html; charset=windows-1252"),
        "/jp": lambda h: reply(h, sjis, content_type="text/html"),
    }
    with serve(routes) as server:
        pol = FetchPolicy(allow=parse_allow_list("127.0.0.1"))
        for path, title, image in [
            ("/fr", "Gal\u00e9rie \u2013 \u00e9t\u00e9", "/photo.png"),
            ("/jp", "\u753b\u50cf\u30ae\u30e3\u30e9\u30ea\u30fc", "/jp.png"),
        ]:
            result = fetch(server.url(path), pol)
            page = extract_media(result.body, result.final_url, result.content_type)
            assert page.title == title
            assert [ref.url for ref in page.media] == [server.url(image)]


def test_decode_text_never_fails_on_bad_bytes() -> None:
    text = decode_text(b"<p>\xff\xfe\xfa broken \x81 utf-8</p>", "text/html; charset=utf-8")
    assert "broken" in text and "\ufffd" in text


def test_extract_css_media_decodes_data_uris_and_keeps_imports() -> None:
    encoded = base64.b64encode(png_bytes("blue")).decode()
    css = f'@import "a.css"; .x {{ background: url(data:image/png;base64,{encoded}) }}'
    found = extract_css_media(css, "http://site.test/s/main.css")
    assert found.imports == ["http://site.test/s/a.css"]
    assert len(found.media) == 1 and found.media[0].data == png_bytes("blue")


def test_a_page_with_ten_thousand_images_is_parsed_whole() -> None:
    html = "".join(f'<img src="/i/{n}.png">' for n in range(10_000))
    assert len(extract_media(html.encode(), PAGE).media) == 10_000
