"""Media URL building blocks shared by the HTML and CSS scanners.

Kept apart from `htmlmedia` so a stylesheet, an inline `style` attribute and
an `<img>` all resolve, filter and deduplicate URLs (and `data:` payloads)
the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field, replace
from urllib.parse import (
    quote,
    unquote,
    unquote_to_bytes,
    urldefrag,
    urljoin,
    urlsplit,
    urlunsplit,
)

from openhotline.lib.httpbody import sniff_mime

DEFAULT_MAX_DATA_URI_BYTES = 10 * 1024 * 1024

_EXTENSION_KINDS = {
    **dict.fromkeys(
        "jpg jpeg jpe jfif pjpeg pjp png apng gif webp avif bmp dib tif tiff svg svgz "
        "heic heif jxl jp2 ico cur".split(),
        "image",
    ),
    **dict.fromkeys(
        "mp4 m4v webm mkv mov qt avi wmv asf flv f4v mpg mpeg mpe m2v ts m2ts mts 3gp 3g2 "
        "ogv vob".split(),
        "video",
    ),
    **dict.fromkeys("mp3 m4a aac oga ogg opus wav flac wma".split(), "audio"),
}
_NON_MEDIA_EXTENSIONS = frozenset("woff woff2 ttf otf eot css js htc xml json html htm".split())
# Two-letter country domains commonly sold one level down (example.co.uk).
_SECOND_LEVEL = frozenset("co com net org ac gov edu ne or go gob mil nic ltd plc".split())


@dataclass(frozen=True)
class MediaRef:
    """One media reference: a URL to fetch, or the bytes of a `data:` URI.

    `source` says where it was found (img, srcset, lazy, picture, video,
    poster, link, style, css, meta, svg, embed, preload), which tells an
    analyst why a page "has" an item nobody saw on screen.
    """

    url: str
    kind: str
    source: str
    data: bytes | None = None
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.url)


@dataclass
class CssMedia:
    """Media referenced by a stylesheet and the stylesheets it `@import`s."""

    media: list[MediaRef]
    imports: list[str]


def media_kind_from_extension(url: str) -> str | None:
    """ "image", "video" or "audio" from the URL path's extension, else None."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    ext = path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return _EXTENSION_KINDS.get(ext) if "." in path.rsplit("/", 1)[-1] else None


def resolve_url(raw: str | None, base: str) -> str | None:
    """Absolute http(s) URL without fragment, a `data:` URI, or None to skip.

    Strips what browsers strip (surrounding whitespace, tabs and newlines
    inside, backslashes as slashes), and drops javascript:, blob:, mailto:
    and other schemes nothing can be fetched from.
    """
    if not raw:
        return None
    value = raw.strip(" \t\n\r\f")
    if not value or value.startswith("#"):
        return None
    if value[:5].lower() == "data:":
        return value
    value = value.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    try:
        url = urljoin(base, value)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
    except ValueError:
        return None
    return _ascii_url(urldefrag(url)[0])


_NOT_URL_SAFE = re.compile(r"[^\x21-\x7e]")


def _ascii_url(url: str) -> str | None:
    # Browsers send non-ASCII paths as UTF-8 percent-escapes and hosts as IDNA;
    # doing the same here makes URLs comparable and safe to put on the wire.
    if url.isascii() and " " not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            netloc = netloc.encode("idna").decode("ascii")
        except UnicodeError:
            return None

    def escape(text: str) -> str:
        return _NOT_URL_SAFE.sub(lambda m: quote(m.group(), safe=""), text)

    return urlunsplit(
        (parts.scheme, netloc, escape(parts.path), escape(parts.query), escape(parts.fragment))
    )


def same_site(a: str, b: str) -> bool:
    """Whether two URLs belong to one site (host, ignoring subdomains)."""
    return _site(a) == _site(b) != ""


def _site(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def parse_srcset(value: str) -> list[str]:
    """URLs of a `srcset` attribute, following the HTML parsing algorithm.

    Splitting on commas is wrong: URLs (and `data:` URIs) may contain them,
    and `w`/`x` descriptors may hold parentheses.
    """
    urls: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        start = i
        while i < n and not value[i].isspace():
            i += 1
        url = value[start:i]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while i < n:
                ch = value[i]
                i += 1
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth = max(0, depth - 1)
                elif ch == "," and depth == 0:
                    break
        if url:
            urls.append(url)
    return urls


def decode_data_uri(uri: str, max_bytes: int) -> tuple[str, bytes] | None:
    """(declared type, payload) of a `data:` URI, or None if malformed or too big."""
    head, sep, payload = uri[5:].partition(",")
    if not sep:
        return None
    params = [p.strip().lower() for p in head.split(";")]
    mime = params[0] or "text/plain"
    if "base64" in params[1:]:
        compact = "".join(unquote(payload).split())
        if len(compact) * 3 // 4 > max_bytes:
            return None
        compact = compact.replace("-", "+").replace("_", "/")
        try:
            data = base64.b64decode(compact + "=" * (-len(compact) % 4))
        except (binascii.Error, ValueError):
            return None
    else:
        if len(payload) > 3 * max_bytes:
            return None
        data = unquote_to_bytes(payload)
        if len(data) > max_bytes:
            return None
    return mime, data


def _kind_of_mime(mime: str) -> str | None:
    top = mime.split("/", 1)[0]
    if top in ("image", "video", "audio"):
        return top
    return "video" if mime == "application/ogg" else None


class RefCollector:
    """Ordered, de-duplicated media references (by URL, or by content for `data:`)."""

    def __init__(self, max_data_uri_bytes: int = DEFAULT_MAX_DATA_URI_BYTES) -> None:
        self.max_data_uri_bytes = max_data_uri_bytes
        self._refs: dict[str, MediaRef] = {}

    def add(self, raw: str | None, kind: str, source: str, base: str) -> MediaRef | None:
        """Resolve `raw` against `base` and keep it; None when it is not media."""
        url = resolve_url(raw, base)
        if url is None:
            return None
        if not url.startswith("data:"):
            return self.keep(MediaRef(url=url, kind=kind, source=source))
        decoded = decode_data_uri(url, self.max_data_uri_bytes)
        if decoded is None:
            return None
        declared, data = decoded
        if not data:
            return None
        found = _kind_of_mime(sniff_mime(data)) or _kind_of_mime(declared)
        if found is None:
            return None
        label = f"data:{declared}" + (";base64" if ";base64," in url[:200].lower() else "")
        key = "data:sha256:" + hashlib.sha256(data).hexdigest()
        return self.keep(MediaRef(url=label, kind=found, source=source, data=data, key=key))

    def keep(self, ref: MediaRef, source: str | None = None) -> MediaRef:
        """Keep `ref` unless an equal one is already kept (the first one wins)."""
        existing = self._refs.get(ref.key)
        if existing is not None:
            return existing
        if source is not None:
            ref = replace(ref, source=source)
        self._refs[ref.key] = ref
        return ref

    def all(self) -> list[MediaRef]:
        """Every kept reference, in the order first found."""
        return list(self._refs.values())


_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_CSS_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.I)
_CSS_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)|"([^"]*)"|'([^']*)')[^;]*;?""",
    re.I,
)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""", re.I)
_CSS_IMAGE_SET = re.compile(r"""image-set\(((?:[^()]|\([^()]*\))*)\)""", re.I)
_CSS_STRING = re.compile(r""""([^"]+)"|'([^']+)'""")


def _first(groups: tuple[str | None, ...]) -> str:
    return next((g for g in groups if g), "")


def css_urls(css: str, base_url: str) -> tuple[list[str], list[str]]:
    """(media URLs, imported stylesheet URLs) in CSS text, resolved against `base_url`.

    Media URLs are every `url()` and `image-set()` string outside `@import`
    and `@font-face` whose extension is not a font, script or stylesheet;
    `data:` URIs come back as they are.
    """
    css = _CSS_COMMENT.sub(" ", css)
    imports: list[str] = []
    for match in _CSS_IMPORT.finditer(css):
        url = resolve_url(_first(match.groups()), base_url)
        if url is not None and not url.startswith("data:") and url not in imports:
            imports.append(url)
    body = _CSS_FONT_FACE.sub(" ", _CSS_IMPORT.sub(" ", css))
    raws = [_first(m.groups()) for m in _CSS_URL.finditer(body)]
    for match in _CSS_IMAGE_SET.finditer(body):
        inner = _CSS_URL.sub(" ", match.group(1))
        raws.extend(_first(m.groups()) for m in _CSS_STRING.finditer(inner))
    media: list[str] = []
    for raw in raws:
        url = resolve_url(raw, base_url)
        if url is None or url in media:
            continue
        ext = urlsplit(url).path.rpartition(".")[2].lower() if not url.startswith("data:") else ""
        if ext not in _NON_MEDIA_EXTENSIONS:
            media.append(url)
    return media, imports


def extract_css_media(
    css: str, base_url: str, max_data_uri_bytes: int = DEFAULT_MAX_DATA_URI_BYTES
) -> CssMedia:
    """Media references (with decoded `data:` payloads) and imports of CSS text."""
    media_urls, imports = css_urls(css, base_url)
    refs = RefCollector(max_data_uri_bytes)
    for url in media_urls:
        refs.add(url, media_kind_from_extension(url) or "image", "css", base_url)
    return CssMedia(media=refs.all(), imports=imports)
