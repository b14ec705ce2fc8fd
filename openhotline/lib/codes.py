"""Random public identifiers.

Public identifiers (receipt codes, report codes) are random, never integer
primary keys, so that they reveal nothing about volume or order. The
alphabet leaves out characters that are easy to misread aloud or on paper.
"""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def random_code(length: int = 10, *, group: int = 5) -> str:
    """A code like ``K7QXM-2HD9P``: ``length`` random characters in groups."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(length))
    if not group:
        return chars
    return "-".join(chars[i : i + group] for i in range(0, length, group))
