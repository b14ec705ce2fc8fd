"""Comparing two rendered pages, such as "not found" and "not yours".

Every staff page carries CSRF tokens (the language picker and the logout
form), masked afresh on each render, so two renders of the same page never
match byte for byte; and the language picker returns to the requested path
(``next``), which the requester typed. ``same_page`` compares two pages with
those two values left out; anything else that differs still fails.
"""

from __future__ import annotations

import re

TOKEN = re.compile(rb'(name="(?:csrfmiddlewaretoken|next)" value=")[^"]*(")')


def without_tokens(content: bytes) -> bytes:
    return TOKEN.sub(rb"\1\2", content)


def same_page(first: bytes, second: bytes) -> bool:
    return without_tokens(first) == without_tokens(second)
