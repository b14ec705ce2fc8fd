"""How much a link looks like a gallery's pagination ("next", page numbers, `?page=2`).

The crawler follows a reported page's same-site links within a page budget;
the links that lead to the gallery's other pages must win that budget over
"about us" and tag clouds. This scores one link from what a page shows of
it: its `rel`, its text (or `aria-label`/`title`) and its URL.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

NEXT_SCORE = 4  # rel=next, "next", "›", "»": the page after this one
PREVIOUS_SCORE = 3  # rel=prev, "previous", "‹", "«": a reported page may be page 3
NUMBER_SCORE = 2  # a page number, `?page=N`, `/page/N`

# Link texts that mean "the next page", lower case, in the languages hotlines work in.
_NEXT_TEXTS = frozenset(
    {
        "next",
        "next page",
        "more",
        "older",
        "older posts",
        "load more",
        "show more",
        "›",
        "»",
        ">",
        ">>",
        "→",
        "suivant",
        "page suivante",
        "weiter",
        "nächste",
        "nächste seite",
        "volgende",
        "siguiente",
        "avanti",
        "successivo",
        "następna",
        "próxima",
        "seguinte",
        "далее",
        "следующая",
        "次へ",
        "下一页",
    }
)
_PREVIOUS_TEXTS = frozenset(
    {"prev", "previous", "previous page", "newer", "‹", "«", "<", "<<", "←", "précédent", "zurück"}
)
_ARROWS = "›»>→‹«<←"
_PAGE_PARAMS = frozenset({"page", "p", "pg", "paged", "pagenum", "page_num", "pagina", "seite"})
_PAGE_PATH_RE = re.compile(r"/(?:page|p|pages|seite|pagina)[/\-_]?\d{1,5}/?$", re.IGNORECASE)
_NUMBER_RE = re.compile(r"\[?\(?\d{1,5}\)?\]?")


def _words(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .:|·-–—")


def pagination_score(url: str, rel: str = "", text: str = "") -> int:
    """How much the link looks like pagination: 0 (not at all) to `NEXT_SCORE`."""
    rels = rel.lower().split()
    if "next" in rels:
        return NEXT_SCORE
    if "prev" in rels or "previous" in rels:
        return PREVIOUS_SCORE
    words = _words(text)
    bare = words.strip(_ARROWS + " ")
    if words in _NEXT_TEXTS or bare in _NEXT_TEXTS or (bare.startswith("next") and len(bare) < 20):
        return NEXT_SCORE
    if words in _PREVIOUS_TEXTS or bare in _PREVIOUS_TEXTS or bare.startswith("prev"):
        return PREVIOUS_SCORE
    if words and _NUMBER_RE.fullmatch(words):
        return NUMBER_SCORE
    return NUMBER_SCORE if looks_like_page_url(url) else 0


def looks_like_page_url(url: str) -> bool:
    """`?page=2`, `&p=3`, `/page/4`, `/p-5`: a URL that names a page number."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    for name, value in parse_qsl(parts.query):
        if name.lower() in _PAGE_PARAMS and value.isdigit():
            return True
    return bool(_PAGE_PATH_RE.search(parts.path))
