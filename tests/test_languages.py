"""Staff and police pages in five languages: complete catalogues, the browser's language,
and the user's own choice."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import polib
import pytest

from openhotline.accounts.models import User

PACKAGE = Path(__file__).resolve().parent.parent / "openhotline"
LANGUAGES = ("da", "nl", "de", "fr")
# The staff catalogue (openhotline/locale) and the public pages' own.
CATALOGUES = [PACKAGE / "locale" / lang / "LC_MESSAGES" / "django.po" for lang in LANGUAGES] + [
    PACKAGE / app / "locale" / lang / "LC_MESSAGES" / "django.po"
    for app in ("intake", "stats")
    for lang in LANGUAGES
]

# What an analyst sees on the queue: navigation and the page's heading.
EXPECTED = {
    "da": ("Kø", "Log ud", "Anmeldte URL'er, der venter på vurdering"),
    "nl": ("Wachtrij", "Uitloggen", "Gemelde URL's die op beoordeling wachten"),
    "de": ("Warteschlange", "Abmelden", "Gemeldete URLs, die auf Bewertung warten"),
    "fr": ("File d’attente", "Se déconnecter", "URL signalées en attente d’évaluation"),
}


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_catalogue_is_complete_and_compiled(path: Path, tmp_path: Path) -> None:
    po = polib.pofile(str(path))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    # The committed .mo is the .po compiled (msgfmt, as compilemessages runs it).
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(path)], check=True, timeout=60
    )
    fresh = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(compiled))}
    shipped = {
        (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural)
        for e in polib.mofile(str(path.with_suffix(".mo")))
    }
    assert shipped == fresh, f"{path.with_suffix('.mo')} is stale: run compilemessages"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_browsers_language_translates_navigation_and_headings(
    language: str, analyst: User, as_user: Any
) -> None:
    page = (
        as_user(analyst).get("/app/", HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5").content.decode()
    )
    nav, logout, heading = EXPECTED[language]
    assert f'<html lang="{language}">' in page
    assert f">{nav}</a>" in page and f">{logout}</button>" in page
    assert f"<h1>{heading}</h1>" in page
    assert "Reported URLs awaiting assessment" not in page


def test_english_is_the_default(analyst: User, as_user: Any) -> None:
    page = as_user(analyst).get("/app/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert '<html lang="en">' in page and "Reported URLs awaiting assessment" in page


def test_a_user_chooses_a_language_over_the_browsers(analyst: User, as_user: Any) -> None:
    client = as_user(analyst)
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/app/"})
    assert response.status_code == 302
    page = client.get("/app/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="de">' in page and ">Warteschlange</a>" in page


def test_police_pages_follow_the_browsers_language(police: User, as_user: Any) -> None:
    page = as_user(police).get("/lea/", HTTP_ACCEPT_LANGUAGE="nl", follow=True).content.decode()
    assert ">Uitloggen</button>" in page and "Log out" not in page


def test_the_statistics_dashboard_follows_the_browsers_language(
    analyst: User, as_user: Any
) -> None:
    page = as_user(analyst).get("/app/stats/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<h1>Statistik: Anzahlen</h1>" in page and ">Anwenden</button>" in page
