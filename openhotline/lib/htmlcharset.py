"""Which text encoding a fetched page or stylesheet uses.

Reported sites are often old or non-Western (windows-1252, Shift_JIS, GBK)
and often lie or say nothing. The order follows browsers: byte order mark,
then the HTTP header, then a `<meta>` declaration, then the bytes themselves.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG Encoding: labels browsers treat as a superset encoding.
_WHATWG_ALIASES = {
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "l1": "windows-1252",
    "ascii": "windows-1252",
    "us-ascii": "windows-1252",
    "iso-8859-9": "windows-1254",
    "iso-8859-11": "windows-874",
    "tis-620": "windows-874",
    "gb2312": "gbk",
    "gb_2312-80": "gbk",
    "x-gbk": "gbk",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "sjis": "shift_jis",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "utf8": "utf-8",
    "unicode": "utf-16-le",
    "utf-16": "utf-16-le",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_CSS_CHARSET = re.compile(rb"""^@charset\s+["']([a-zA-Z0-9_.:-]+)["']""")


def normalize_label(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _WHATWG_ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    # A page cannot really be UTF-16 unless it starts with a BOM (checked first).
    return "utf-8" if codec.startswith("utf-16") else codec


def detect_encoding(body: bytes, content_type: str | None = None, *, css: bool = False) -> str:
    """Best encoding for `body`; `content_type` is the HTTP Content-Type header.

    Steps:
    1. A byte order mark wins.
    2. Then `charset=` in the Content-Type header.
    3. Then `<meta charset>` / `http-equiv` in the first 4 KiB (`@charset` for CSS).
    4. Then strict UTF-8, if the bytes decode.
    5. Then charset_normalizer's guess (windows-1252 on a tie), or windows-1252.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        found = normalize_label(match.group(1)) if match else None
        if found:
            return found
    head = body[:4096]
    declared = (_CSS_CHARSET if css else _META_CHARSET).search(head)
    found = normalize_label(declared.group(1).decode("ascii")) if declared else None
    if found:
        return found
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A body cut at the size limit may end inside a multi-byte character.
        if exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    else:
        return "utf-8"
    matches = list(charset_normalizer.from_bytes(body[:65536]))
    if not matches:
        return "windows-1252"
    # Short texts leave several single-byte code pages equally plausible; then
    # take the browsers' default, as the page's author most likely saw it.
    least = min(m.chaos for m in matches)
    plausible = [m.encoding for m in matches if m.chaos == least]
    if "cp1252" in plausible:
        return "cp1252"
    return normalize_label(plausible[0]) or "windows-1252"


def decode_text(body: bytes, content_type: str | None = None, *, css: bool = False) -> str:
    """Decode a page or stylesheet, never failing (bad bytes become U+FFFD)."""
    encoding = detect_encoding(body, content_type, css=css)
    text = body.decode(encoding, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text
