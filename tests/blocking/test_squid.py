"""The Squid export read and matched the way Squid does it, with the C library's regex.

Squid compiles ``url_regex`` patterns with POSIX ``regcomp(REG_EXTENDED |
REG_NOSUB)`` and matches them against the request URI with its percent-escapes
decoded (``Acl::UrlCheck``, ``AnyP::Uri::DecodeOrDupe``), in the C locale; it
reads the file line by line into a 2048-byte buffer
(``ConfigParser::strtokFile``). This test does the same with glibc's regex
through ctypes, so a pattern Python's ``re`` would accept but POSIX would not,
or a URL Squid sees decoded, is caught.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import locale
import re
from collections.abc import Iterator

import pytest

from openhotline.accounts.models import Organisation
from openhotline.blocking.exportfiles import write_version
from openhotline.blocking.exports import ExportOptions
from openhotline.blocking.squid import LINE_LIMIT, url_pattern
from openhotline.lib.urlnorm import normalize_url

pytestmark = pytest.mark.django_db

REG_EXTENDED, REG_NOSUB = 1, 8  # glibc's values
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


@pytest.fixture(autouse=True)
def squid_locale() -> Iterator[None]:
    """Squid never calls setlocale(): its regex runs in the C locale, byte by byte."""
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)


class PosixRegex:
    """A compiled POSIX extended regular expression (glibc), as Squid compiles it."""

    def __init__(self, pattern: bytes) -> None:
        self._buffer = ctypes.create_string_buffer(256)  # regex_t is 64 bytes on glibc
        error = _libc.regcomp(self._buffer, pattern, REG_EXTENDED | REG_NOSUB)
        self._compiled = error == 0
        assert self._compiled, f"regcomp refused {pattern!r} (error {error})"

    def search(self, text: bytes) -> bool:
        return _libc.regexec(self._buffer, text, 0, None, 0) == 0

    def __del__(self) -> None:
        if getattr(self, "_compiled", False):
            _libc.regfree(self._buffer)


def squid_reads(text: str) -> list[bytes]:
    """The patterns Squid takes from an ACL file: ``strtokFile`` line by line."""
    data = io.BytesIO(text.encode())
    patterns = []
    while line := data.readline(2047):  # fgets(buf, CONFIG_LINE_LIMIT = 2048)
        token = line.strip(b" \t\r\n")
        # A word starting with "#" after whitespace ends the pattern.
        token = re.split(rb"[ \t\r\n]+#", token, maxsplit=1)[0]
        if token and not token.startswith(b"#"):
            patterns.append(token)
    return patterns


def squid_sees(url: str) -> bytes:
    """The request URI as Squid's url_regex sees it: every %XX decoded, or none."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", url):
        return url.encode()
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), url.encode())


@pytest.fixture
def squid_file(hotline_a: Organisation, published) -> str:
    outcome = published(
        urls=[
            "http://img.mixed.test/x/1.jpg",
            "http://img.mixed.test/a b/ü.jpg",  # canonical: /a%20b/%C3%BC.jpg
            "http://img.mixed.test/q?id=5&s=a%2Fb",
            "http://img.mixed.test/100%/x",  # a lone %: Squid matches it undecoded
            "http://img.mixed.test/[x]{1}(2)|*+$^.jpg",
            "http://img.mixed.test/raw%FF%0Aend",
        ],
        domains=["whole.test"],
        hosts=["gallery.shared.test"],
    )
    assert outcome.publication is not None
    out = io.StringIO()
    write_version("squid", out, hotline_a, outcome.publication, ExportOptions.from_settings())
    return out.getvalue()


def test_squid_compiles_every_line_and_blocks_exactly_what_was_listed(squid_file: str) -> None:
    patterns = squid_reads(squid_file)
    assert len(patterns) == 8
    # Squid joins many patterns into one: "(p1)|(p2)|…" must compile too.
    joined = PosixRegex(b"|".join(b"(" + p + b")" for p in patterns))
    regexes = [PosixRegex(p) for p in patterns]

    def blocked(url: str, *, tunnel: bool = False) -> bool:
        seen = url.encode() if tunnel else squid_sees(normalize_url(url))
        hits = [r.search(seen) for r in regexes]
        assert joined.search(seen) == any(hits)
        return any(hits)

    for url in (
        "http://img.mixed.test/x/1.jpg",
        "http://img.mixed.test/a b/ü.jpg",
        "http://img.mixed.test/a%20b/%C3%BC.jpg",
        "http://img.mixed.test/q?id=5&s=a%2Fb",
        "http://img.mixed.test/100%/x",
        "http://img.mixed.test/[x]{1}(2)|*+$^.jpg",
        "http://img.mixed.test/raw%FF%0Aend",
        "http://gallery.shared.test/any/page",
        "https://deep.sub.whole.test:8443/x",
    ):
        assert blocked(url), url
    assert blocked("gallery.shared.test:443", tunnel=True)
    assert blocked("cdn.whole.test:443", tunnel=True)
    # The mixed host's other pages, a tunnel to it, look-alikes and siblings: open.
    for url in (
        "http://img.mixed.test/",
        "http://img.mixed.test/x/1.jpg2",
        "http://img.mixed.test/x/2.jpg",
        "http://img.mixed.test/a b/u.jpg",
        "http://img.mixed.test/q?id=5&s=a%2Fc",
        "http://img.mixed.test/xx%7B1%7D(2)|*+$^.jpg",
        "http://other.shared.test/",
        "http://sub.gallery.shared.test/",
        "http://notwhole.test/",
    ):
        assert not blocked(url), url
    assert not blocked("img.mixed.test:443", tunnel=True)


def test_no_pattern_holds_whitespace_or_outgrows_squids_line_buffer() -> None:
    # 1,622 characters, but each decoded space is an 11-byte class in the pattern.
    long_url = normalize_url("http://img.mixed.test/" + "a%20" * 400)
    pattern = url_pattern(long_url)
    assert len(pattern.encode()) <= LINE_LIMIT and not pattern.endswith("$")
    assert squid_reads(pattern + "\n") == [pattern.encode()]
    regex = PosixRegex(pattern.encode())
    assert regex.search(squid_sees(long_url))
    assert not regex.search(squid_sees("http://img.mixed.test/other"))
    spaced = url_pattern("http://img.mixed.test/a%20%23b%09c")
    assert " " not in spaced and "\t" not in spaced
    assert squid_reads(spaced + "\n") == [spaced.encode()]
    assert PosixRegex(spaced.encode()).search(b"http://img.mixed.test/a #b\tc")
