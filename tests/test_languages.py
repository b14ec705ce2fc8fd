"""Staff and police pages in five languages: complete catalogues, the browser's language,
and the user's own choice."""

from __future__ import annotations

import ast
import csv
import io
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
def test_a_string_in_two_catalogues_is_translated_alike(language: str) -> None:
    """The staff catalogue (LOCALE_PATHS) wins over an app's for the same msgid.

    So a public page whose words are also staff words ("Closed") would show the
    staff wording unless both say the same.
    """
    staff = {
        (e.msgctxt, e.msgid): e.msgstr
        for e in polib.pofile(str(PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po"))
    }
    differ = [
        (app, e.msgid, staff[(e.msgctxt, e.msgid)], e.msgstr)
        for app in ("intake", "stats")
        for e in polib.pofile(
            str(PACKAGE / app / "locale" / language / "LC_MESSAGES" / "django.po")
        )
        if staff.get((e.msgctxt, e.msgid), e.msgstr) != e.msgstr
    ]
    assert differ == []


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


# Python-side strings: flash messages, form labels and errors, choice labels, statistics.

TRANSLATION_FUNCTIONS = {"gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext"}


def marked_python_strings() -> dict[tuple[str, str | None], str]:
    """Every literal passed to a ``django.utils.translation`` function in openhotline's
    Python (under the name the module imports it as), with where it is: (msgid, plural)."""
    found: dict[tuple[str, str | None], str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
            for alias in node.names
            if alias.name in TRANSLATION_FUNCTIONS
        }
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in names
                and node.args
            ):
                continue
            literals = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if not literals or not isinstance(literals[0], str):
                continue
            plural = literals[1] if node.func.id.startswith("ngettext") else None
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            found.setdefault((literals[0], plural if isinstance(plural, str) else None), where)
    return found


def test_every_string_marked_in_python_is_translated_in_every_language() -> None:
    marked = marked_python_strings()
    # The scan sees strings of views, actions, forms, choices and the dashboards.
    assert {
        ("Nothing unclaimed is waiting.", None),
        ("Give a reason.", None),
        ("Baseline (illegal worldwide)", None),
        ("Items never shown unblurred", None),
        ("%(n)s version behind", "%(n)s versions behind"),
    } <= set(marked)
    missing = []
    for language in LANGUAGES:
        # At run time Django merges every catalogue of a language: any of them may hold it.
        entries: dict[str, polib.POEntry] = {}
        for path in CATALOGUES:
            if path.parts[-3] == language:
                for entry in polib.pofile(str(path)):
                    entries.setdefault(entry.msgid, entry)
        for (msgid, plural), where in marked.items():
            found = entries.get(msgid)
            done = found is not None and (
                all(found.msgstr_plural.values()) if plural else bool(found.msgstr)
            )
            if not done or (found is not None and found.fuzzy):
                missing.append(f"{language}: {where}: {msgid!r}")
    assert missing == []


def test_a_flash_message_after_an_action_is_in_the_users_language(
    analyst: User, as_user: Any
) -> None:
    page = as_user(analyst).post("/app/next/", HTTP_ACCEPT_LANGUAGE="da", follow=True)
    assert "Der venter intet, som ikke er taget." in page.content.decode()
    assert "Nothing unclaimed is waiting." not in page.content.decode()


def test_a_forms_labels_and_errors_are_in_the_users_language(admin: User, as_user: Any) -> None:
    client = as_user(admin)
    page = client.post(
        "/app/crawler/hotline-a/rules/", {"domain": "example.test"}, HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Eine Regel muss etwas bewirken." in page
    assert ">Nicht crawlen:</label>" in page and "Do not crawl" not in page
    assert "Gilt auch für die Subdomains" in page  # a help text
    saved = client.post(
        "/app/crawler/hotline-a/rules/",
        {"domain": "example.test", "do_not_crawl": "on"},
        HTTP_ACCEPT_LANGUAGE="de",
        follow=True,
    ).content.decode()
    assert "Regel für example.test gespeichert." in saved


def test_an_actions_refusal_is_in_the_users_language(analyst: User, as_user: Any) -> None:
    page = (
        as_user(analyst).get("/app/", {"q": "pdq:abc"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )
    assert "Un hachage PDQ fait 64 chiffres hexadécimaux" in page


def test_statistics_tables_and_choice_labels_are_in_the_users_language(
    analyst: User, as_user: Any
) -> None:
    client = as_user(analyst)
    exposure = client.get("/app/stats/exposure/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<span>Nie unverschwommen gezeigte Elemente</span>" in exposure
    assert ">Anteil nie gezeigt</th>" in exposure and ">Neue Elemente</td>" in exposure
    assert "Items never shown unblurred" not in exposure
    counts = client.get("/app/stats/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # Verdicts and age groups are the models' choice labels.
    assert ">Baseline (weltweit rechtswidrig)</td>" in counts and ">Vorpubertär</td>" in counts
    refused = client.get(
        "/app/stats/", {"start": "2026-02-01", "end": "2026-01-01"}, HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Der Zeitraum endet, bevor er beginnt." in refused
    assert ">Bis (einschließlich):</label>" in refused


def test_the_statistics_csv_is_a_human_export_in_the_readers_language(
    analyst: User, as_user: Any
) -> None:
    client = as_user(analyst)
    danish = client.get("/app/stats/exposure/exposure.csv", HTTP_ACCEPT_LANGUAGE="da")
    rows = list(csv.reader(io.StringIO(danish.content.decode())))
    assert rows[0] == [
        "Elementer",
        "Klassificeret",
        "Aldrig vist uden sløring",
        "Andel aldrig vist (brøkdel)",
    ]
    assert [row[0] for row in rows[1:]] == [
        "Alle elementer",
        "Kendte elementer (match i et betroet hashsæt)",
        "Nye elementer",
    ]
    # Without a language the headers stay English (scripts written against them keep working).
    english = client.get("/app/stats/exposure/exposure.csv").content.decode()
    assert english.startswith("Items,Classified,Never shown unblurred,Share never shown (fraction)")
