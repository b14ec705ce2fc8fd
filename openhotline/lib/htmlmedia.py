"""Every image, video and audio a page shows or links to, found statically.

A hotline must not miss material because a site hides it behind lazy-loading
attributes, CSS backgrounds, `srcset`, social-card metadata or inline `data:`
URIs, so all of these are read. The parser (selectolax/lexbor, an HTML5
parser) copes with any malformed markup a browser would. The page itself is
never trusted beyond that: resolution respects `<base href>`, only http(s)
and `data:` URLs come out, and `data:` payloads are size-bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from openhotline.lib.htmlcharset import decode_text, detect_encoding
from openhotline.lib.mediaurls import (
    DEFAULT_MAX_DATA_URI_BYTES,
    CssMedia,
    MediaRef,
    RefCollector,
    css_urls,
    extract_css_media,
    media_kind_from_extension,
    parse_srcset,
    resolve_url,
    same_site,
)
from openhotline.lib.pagination import pagination_score
from openhotline.lib.samesite import same_site as same_registrable_site

__all__ = [
    "CssMedia",
    "MediaRef",
    "PageLink",
    "PageMedia",
    "css_urls",
    "extract_css_media",
    "extract_media",
    "parse_srcset",
]

# Attributes lazy-loading scripts (lazysizes, lozad, WordPress, jQuery
# plugins, image hosts) copy into `src` at run time.
LAZY_URL_ATTRIBUTES = (
    "data-src",
    "data-original",
    "data-lazy-src",
    "data-lazyload",
    "data-lazy",
    "data-url",
    "data-hi-res-src",
    "data-full",
    "data-full-src",
    "data-fullsrc",
    "data-large",
    "data-large-file",
    "data-medium-file",
    "data-orig-file",
    "data-original-src",
    "data-echo",
    "data-bg",
    "data-background",
    "data-background-image",
    "data-image",
    "data-img",
    "data-img-src",
    "data-zoom-image",
    "data-zoom-src",
    "data-poster",
    "data-video",
    "data-mp4",
    "data-webm",
    "data-fallback-src",
    "lowsrc",
)
LAZY_SRCSET_ATTRIBUTES = ("data-srcset", "data-lazy-srcset", "data-original-srcset")
_META_MEDIA = {
    "og:image": "image",
    "og:image:url": "image",
    "og:image:secure_url": "image",
    "twitter:image": "image",
    "twitter:image:src": "image",
    "og:video": "video",
    "og:video:url": "video",
    "og:video:secure_url": "video",
    "twitter:player:stream": "video",
    "image": "image",
    "thumbnailurl": "image",
    "contenturl": "image",
}
# Links to files that are no HTML page: following them would spend the page
# budget and up to a page's bytes on a download. (Media are handled apart.)
_NOT_PAGE_EXTENSIONS = frozenset(
    "7z apk atom bz2 css csv dmg doc docx eot epub exe gz iso jar js json msi odp ods odt"
    " otf pdf ppt pptx rar rss rtf tar tgz torrent ttf woff woff2 xls xlsx xml xz zip".split()
)
_MAIN_HINTS = ("main", "photo", "picture", "image", "img", "full", "view", "content", "media")


@dataclass(frozen=True)
class PageLink:
    """A same-site link to another HTML page, and how much it looks like pagination."""

    url: str
    score: int  # see lib/pagination.py: 0 for a plain link


@dataclass
class PageMedia:
    """What one HTML page references, in document order, without duplicates."""

    url: str
    base_url: str
    encoding: str
    title: str
    media: list[MediaRef] = field(default_factory=list)
    stylesheets: list[str] = field(default_factory=list)
    iframes: list[str] = field(default_factory=list)
    viewer_links: list[str] = field(default_factory=list)
    main_media: list[MediaRef] = field(default_factory=list)
    # Same-site links to other pages (not media, frames, stylesheets or viewer
    # pages), pagination first, then in document order.
    page_links: list[PageLink] = field(default_factory=list)


class _Page:
    """One walk over the element tree, dispatching on tag and attribute."""

    def __init__(self, page_url: str, base_url: str, max_data_uri_bytes: int) -> None:
        self.page_url = page_url
        self.base = base_url
        self.refs = RefCollector(max_data_uri_bytes)
        self.stylesheets: dict[str, None] = {}
        self.iframes: dict[str, None] = {}
        self.viewers: dict[str, None] = {}
        self.imgs: list[tuple[int, int, MediaRef]] = []  # (declared area, hint, ref)
        self.meta_refs: list[MediaRef] = []
        self.videos: list[MediaRef] = []
        self.links: dict[str, int] = {}  # same-site page link -> best pagination score

    def add(self, raw: str | None, kind: str, source: str) -> MediaRef | None:
        return self.refs.add(raw, kind, source, self.base)

    def add_srcset(self, raw: str | None, kind: str, source: str) -> list[MediaRef]:
        found = (self.add(url, kind, source) for url in parse_srcset(raw or ""))
        return [ref for ref in found if ref is not None]

    def visit(self, node: LexborNode) -> None:
        tag = node.tag or ""
        attrs = node.attributes
        if not attrs and tag != "style":
            return
        handler = _HANDLERS.get(tag)
        if handler is not None:
            handler(self, node, attrs)
        for name in LAZY_URL_ATTRIBUTES:
            value = attrs.get(name)
            if value:
                kind = "video" if name in ("data-video", "data-mp4", "data-webm") else "image"
                kind = media_kind_from_extension(value) or kind
                self._lazy(node, self.add(value, kind, "lazy"))
        for name in LAZY_SRCSET_ATTRIBUTES:
            for ref in self.add_srcset(attrs.get(name), "image", "lazy-srcset"):
                self._lazy(node, ref)
        style = attrs.get("style")
        if style and "url(" in style.lower():
            for ref in extract_css_media(style, self.base, self.refs.max_data_uri_bytes).media:
                self.refs.keep(ref, "style")

    def _lazy(self, node: LexborNode, ref: MediaRef | None) -> None:
        if ref is not None and node.tag == "img":
            self._note_img(node, node.attributes, ref)

    def _note_img(self, node: LexborNode, attrs: dict[str, str | None], ref: MediaRef) -> None:
        area = _int(attrs.get("width")) * _int(attrs.get("height"))
        hint = 0
        parent = node.parent
        for _ in range(4):
            if parent is None:
                break
            if parent.tag == "a":
                self._viewer_candidate(parent.attributes.get("href"))
                hint -= 1  # a thumbnail linking elsewhere is not the main image
            marks = f"{parent.attributes.get('id') or ''} {parent.attributes.get('class') or ''}"
            if any(h in marks.lower() for h in _MAIN_HINTS):
                hint += 1
            parent = parent.parent
        self.imgs.append((area, hint, ref))

    def _viewer_candidate(self, href: str | None) -> None:
        url = resolve_url(href, self.base)
        if url is None or url.startswith("data:") or media_kind_from_extension(url):
            return
        if urldefrag(url)[0] == urldefrag(self.page_url)[0]:
            return
        if same_site(url, self.page_url):
            self.viewers.setdefault(url)

    def page_link(self, href: str | None, rel: str, text: str) -> None:
        """Note a link to another page of the site (the crawler may follow it)."""
        url = resolve_url(href, self.base)
        if url is None or url.startswith("data:") or media_kind_from_extension(url):
            return
        if urldefrag(url)[0] == urldefrag(self.page_url)[0] or _not_a_page(url):
            return
        if not same_registrable_site(url, self.page_url):
            return
        score = pagination_score(url, rel, text)
        self.links[url] = max(score, self.links.get(url, 0))

    def page_links(self) -> list[PageLink]:
        skip = set(self.stylesheets) | set(self.iframes) | set(self.viewers)
        links = [PageLink(url, score) for url, score in self.links.items() if url not in skip]
        return sorted(links, key=lambda link: -link.score)  # stable: document order within

    def main_media(self) -> list[MediaRef]:
        """The one image (and any video) a viewer page exists to show."""
        chosen: list[MediaRef] = list(self.meta_refs) + list(self.videos)
        if self.imgs:
            best = max(self.imgs, key=lambda item: (item[0], item[1]))
            chosen.append(best[2])
        unique: dict[str, MediaRef] = {}
        for ref in chosen:
            unique.setdefault(ref.key, ref)
        return list(unique.values())


def _not_a_page(url: str) -> bool:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return "." in name and name.rpartition(".")[2].lower() in _NOT_PAGE_EXTENSIONS


def _int(value: str | None) -> int:
    digits = "".join(ch for ch in (value or "").strip()[:6] if ch.isdigit())
    return int(digits) if digits else 0


def _img(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    src = attrs.get("src")
    ref = page.add(src, media_kind_from_extension(src or "") or "image", "img")
    if ref is not None:
        page._note_img(node, attrs, ref)
    for ref in page.add_srcset(attrs.get("srcset"), "image", "srcset"):
        page._note_img(node, attrs, ref)


def _source(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    parent = node.parent.tag if node.parent is not None else ""
    mime = (attrs.get("type") or "").lower()
    src = attrs.get("src")
    if parent == "picture":
        kind = "image"
    elif parent in ("video", "audio"):
        kind = parent
    elif mime.startswith(("image/", "video/", "audio/")):
        kind = mime.split("/", 1)[0]
    else:
        kind = media_kind_from_extension(src or "") or "video"
    ref = page.add(src, kind, "source")
    if ref is not None and kind == "video":
        page.videos.append(ref)
    page.add_srcset(attrs.get("srcset"), "image", "picture" if parent == "picture" else "srcset")


def _video(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    kind = node.tag or "video"
    ref = page.add(attrs.get("src"), kind, kind)
    if ref is not None and kind == "video":
        page.videos.append(ref)
    page.add(attrs.get("poster"), "image", "poster")


def _anchor(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    href = attrs.get("href")
    kind = media_kind_from_extension(href or "")
    if kind is not None:
        page.add(href, kind, "link")
    elif href:
        label = attrs.get("aria-label") or attrs.get("title") or ""
        text = node.text(deep=True, separator=" ")[:200] if node.tag == "a" else ""
        page.page_link(href, attrs.get("rel") or "", text.strip() or label)


def _link(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    rel = (attrs.get("rel") or "").lower().split()
    href = attrs.get("href")
    if "stylesheet" in rel:
        url = resolve_url(href, page.base)
        if url is not None and not url.startswith("data:"):
            page.stylesheets.setdefault(url)
    elif "next" in rel or "prev" in rel or "previous" in rel:
        page.page_link(href, " ".join(rel), "")
    elif "image_src" in rel:
        page.add(href, "image", "link")
    elif "preload" in rel and (attrs.get("as") or "").lower() in ("image", "video", "audio"):
        page.add(href, (attrs.get("as") or "image").lower(), "preload")
        page.add_srcset(attrs.get("imagesrcset"), "image", "preload")


def _meta(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    name = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
    kind = _META_MEDIA.get(name)
    if kind is not None:
        ref = page.add(attrs.get("content"), kind, "meta")
        if ref is not None:
            page.meta_refs.append(ref)


def _frame(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    url = resolve_url(attrs.get("src"), page.base)
    if url is not None and not url.startswith("data:"):
        page.iframes.setdefault(url)


def _style(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    found = extract_css_media(node.text(deep=True), page.base, page.refs.max_data_uri_bytes)
    for ref in found.media:
        page.refs.keep(ref, "style")
    for url in found.imports:
        page.stylesheets.setdefault(url)


def _svg_image(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    page.add(attrs.get("href") or attrs.get("xlink:href"), "image", "svg")


def _embed(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    url = attrs.get("src") if node.tag == "embed" else attrs.get("data")
    kind = media_kind_from_extension(url or "")
    if kind is not None:
        page.add(url, kind, "embed")


def _input(page: _Page, node: LexborNode, attrs: dict[str, str | None]) -> None:
    if (attrs.get("type") or "").lower() == "image":
        page.add(attrs.get("src"), "image", "img")


_HANDLERS = {
    "img": _img,
    "source": _source,
    "video": _video,
    "audio": _video,
    "a": _anchor,
    "area": _anchor,
    "link": _link,
    "meta": _meta,
    "iframe": _frame,
    "frame": _frame,
    "style": _style,
    "image": _svg_image,
    "embed": _embed,
    "object": _embed,
    "input": _input,
}


def extract_media(
    body: bytes | str,
    page_url: str,
    content_type: str | None = None,
    *,
    max_data_uri_bytes: int = DEFAULT_MAX_DATA_URI_BYTES,
) -> PageMedia:
    """Find every media reference in the HTML page `body` fetched from `page_url`.

    Steps:
    1. Decode (BOM, header, meta charset, then guess) and parse as HTML5.
    2. Take `<base href>` (first one, as browsers do) as the resolution base.
    3. Walk every element once: tag handlers (img, source, video, a, link,
       meta, iframe, style, svg image, embed), then lazy-loading attributes
       and inline `style` on any element.
    4. Pick the main media (for viewer pages) and return everything found.
    """
    if isinstance(body, bytes):
        encoding = detect_encoding(body, content_type)
        text = decode_text(body, content_type)
    else:
        encoding, text = "utf-8", body
    tree = LexborHTMLParser(text)
    base_url = page_url
    base = tree.css_first("base[href]")
    if base is not None:
        resolved = resolve_url(base.attributes.get("href"), page_url)
        if resolved is not None and not resolved.startswith("data:"):
            base_url = resolved
    page = _Page(page_url, base_url, max_data_uri_bytes)
    root = tree.root
    if root is not None:
        for node in root.traverse():
            page.visit(node)
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node is not None else ""
    page.viewers = {u: None for u in page.viewers if u not in page.stylesheets}
    return PageMedia(
        url=page_url,
        base_url=base_url,
        encoding=encoding,
        title=title,
        media=page.refs.all(),
        stylesheets=list(page.stylesheets),
        iframes=list(page.iframes),
        viewer_links=[u for u in page.viewers if urlsplit(u).scheme in ("http", "https")],
        main_media=page.main_media(),
        page_links=page.page_links(),
    )
