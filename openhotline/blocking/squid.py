"""Squid ``url_regex`` patterns of blocklist entries, matched the way Squid matches them.

What Squid's ``url_regex`` sees (Squid 4 to 7, ``Acl::UrlCheck``): the request URI
with its percent-escapes **decoded**, all of them or, when one is invalid, none
(``AnyP::Uri::DecodeOrDupe``): ``http://host/a b.jpg`` for a request of
``http://host/a%20b.jpg``; for an HTTPS tunnel it does not decrypt, ``host:443``.
The host is lower case and a default port is left out, as in our canonical URLs.
So a URL entry's pattern is written against the decoded URL; matching the
canonical (encoded) spelling would let every URL with an escape through.

How Squid reads the file (``ConfigParser::strtokFile``): one pattern a line; a
line starting with ``#`` is a comment; whitespace followed by ``#`` ends the
pattern; lines are read into a buffer of 2048 bytes, so a longer line would
become two patterns. Hence no pattern holds a literal space or control
character, and none is longer than ``LINE_LIMIT``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote_to_bytes

from openhotline.blocking.models import EntryKind

# Squid's CONFIG_LINE_LIMIT is 2048 bytes, the newline and the final NUL included.
LINE_LIMIT = 2046
# Characters with a meaning in a POSIX extended regular expression.
_REGEX_SPECIAL = frozenset(".[]()*+?{}|^$\\")
_INVALID_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_WHITESPACE = frozenset(" \t\n\v\f\r")


def regex_escape(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


def squid_view(url: str) -> bytes:
    """The bytes Squid's ``url_regex`` matches for a request of ``url``.

    Every escape decoded, or none when one is invalid (a lone ``%``); cut at a
    decoded NUL, where Squid's C string ends.
    """
    raw = url.encode() if _INVALID_ESCAPE_RE.search(url) else unquote_to_bytes(url)
    return raw.split(b"\0", 1)[0]


def _atoms(raw: bytes) -> Iterator[str]:
    """One regular-expression piece per character Squid will see.

    1. Printable ASCII stands for itself, escaped where the syntax needs it.
    2. Whitespace and control characters become a class (``[[:space:]]``,
       ``[[:cntrl:]]``): a literal one would end or split the line in Squid's
       file. The class matches the same URL with another such character there,
       never another page.
    3. Valid UTF-8 stays literal: its bytes match themselves. A byte that is
       not UTF-8 cannot be written in the file; it becomes ``.``, which in
       Squid matches one byte (Squid never calls ``setlocale``, so its regex
       runs in the C locale).
    """
    for char in raw.decode("utf-8", errors="surrogateescape"):
        if "\udc80" <= char <= "\udcff":
            yield "."
        elif char in _WHITESPACE:
            yield "[[:space:]]"
        elif char < " " or char == "\x7f":
            yield "[[:cntrl:]]"
        elif char in _REGEX_SPECIAL:
            yield "\\" + char
        else:
            yield char


def url_pattern(url: str) -> str:
    """``^`` + the URL as Squid sees it + ``$``: that URL only.

    A pattern over ``LINE_LIMIT`` bytes ends early without ``$``: it then matches
    the URLs that begin with the first two thousand bytes of this one.
    """
    pieces = ["^"]
    size = 1
    for atom in _atoms(squid_view(url)):
        size += len(atom.encode())
        if size > LINE_LIMIT - 1:
            return "".join(pieces)
        pieces.append(atom)
    pieces.append("$")
    return "".join(pieces)


def squid_pattern(kind: str, host: str, value: str) -> str:
    """One ``url_regex`` line matching exactly what the entry blocks.

    A URL entry matches its own URL only, so an HTTPS tunnel (``host:443``)
    never matches it: no overblocking. A whole host matches that host with any
    scheme, port and path, tunnels included; a domain also every name below it.
    """
    if kind == EntryKind.URL:
        return url_pattern(value)
    below = "([^/@:]+\\.)?" if kind == EntryKind.DOMAIN else ""
    return f"^([a-z]+://)?{below}{regex_escape(host)}(:[0-9]+)?(/|$)"
