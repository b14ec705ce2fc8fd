"""The public transparency report: aggregates only, no small counts, five languages."""

from __future__ import annotations

import ast
import gettext as gettext_module
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from openhotline.accounts.models import Organisation
from openhotline.stats.transparency import quarters, year_figures
from tests.stats.conftest import HOUR, T0, make_url

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "openhotline" / "stats" / "locale"
Q1 = T0 - timedelta(days=80)  # 2025-01-17
Q2 = T0  # 2025-04-07


@pytest.fixture
def year_2025(hotline_a: Organisation, hotline_b: Organisation) -> None:
    """Hotline A, 2025: Q1 twelve public reports (illegal, NL, removed in 2 days),
    three partner reports (not illegal); Q2 eleven public reports (illegal, RU, removed
    in 5 days) and one e-mail report (pending). Hotline B: two illegal URLs in Q1."""
    for _ in range(12):
        make_url(hotline_a, at=Q1, country="NL", verdict="baseline", removed=48 * HOUR)
    for _ in range(3):
        make_url(hotline_a, at=Q1, country="US", verdict="not_illegal", source="partner")
    for _ in range(11):
        make_url(hotline_a, at=Q2, country="RU", verdict="national", removed=120 * HOUR)
    make_url(hotline_a, at=Q2, source="email")
    for _ in range(2):
        make_url(hotline_b, at=Q1, country="NL", verdict="baseline")


def cells(page: str) -> list[str]:
    return [c.strip() for c in re.findall(r'<td class="num">([^<]*)</td>', page)]


def test_the_figures_of_a_year_are_counted_per_quarter(
    year_2025: None, hotline_a: Organisation
) -> None:
    figures = year_figures(2025, (hotline_a.pk,))
    assert figures.quarters == [1, 2, 3, 4]
    assert figures.reports["public"] == [12, 11, 0, 0] and figures.reports["partner"] == [
        3,
        0,
        0,
        0,
    ]
    assert figures.urls == {
        "illegal": [12, 11, 0, 0],
        "not_illegal": [3, 0, 0, 0],
        "pending": [0, 1, 0, 0],
    }
    assert figures.hosting["member"] == [12, 0, 0, 0]  # NL: hotline B's country
    assert figures.hosting["no_member"] == [0, 11, 0, 0]  # RU
    assert figures.removed == [12, 11, 0, 0, 23]
    assert figures.within_3_days == [12, 0, 0, 0, 12]
    assert figures.median_removal[:2] == [48 * 3600, 120 * 3600]
    assert figures.median_removal[4] == 48 * 3600  # 12 of 23 at two days
    assert figures.countries == [("NL", 12, {"member"}), ("RU", 11, {"no_member"})]


def test_the_public_page_shows_no_small_count(year_2025: None, settings: object) -> None:
    settings.OPENHOTLINE_TRANSPARENCY_MIN_COUNT = 10  # type: ignore[attr-defined]
    response = Client().get("/transparency/", {"year": "2025"})
    assert response.status_code == 200
    page = response.content.decode()
    values = cells(page)
    assert "&lt; 10" in values and "–" in values
    numbers = [int(v.replace(",", "")) for v in values if re.fullmatch(r"[\d,]+", v)]
    assert numbers and all(n == 0 or n >= 10 for n in numbers)
    assert "17" in values and "29" in values  # all reports: Q1 and the year
    for hidden in ("3", "2", "1"):
        assert hidden not in values
    # No URL or host appears. B's 2 URLs in its own country are hidden; the
    # hosting table withholds the 11 in Russia with them (25 − 12 − 11 = 2), so
    # neither the Netherlands (12 + B's 2) nor Russia may be listed by name.
    assert ".test" not in page
    assert "Russia" not in page and "Netherlands" not in page


def test_the_threshold_is_a_setting(hotline_a: Organisation, settings: object) -> None:
    for _ in range(5):
        make_url(hotline_a, at=Q1, country="NL", verdict="baseline")
    for _ in range(6):
        make_url(hotline_a, at=Q2, country="NL", verdict="baseline")
    default = cells(Client().get("/transparency/", {"year": "2025"}).content.decode())
    assert "&lt; 10" in default and "5" not in default and "11" in default
    settings.OPENHOTLINE_TRANSPARENCY_MIN_COUNT = 3  # type: ignore[attr-defined]
    cache.clear()
    lowered = cells(Client().get("/transparency/", {"year": "2025"}).content.decode())
    assert "&lt; 3" not in lowered and {"5", "6", "11"} <= set(lowered)


@pytest.mark.parametrize(
    ("language", "phrase"),
    [
        ("en", "Transparency report"),
        ("da", "Gennemsigtighedsrapport"),
        ("nl", "Transparantieverslag"),
        ("de", "Transparenzbericht"),
        ("fr", "Rapport de transparence"),
    ],
)
def test_the_report_is_in_the_five_languages_of_the_form(
    year_2025: None, language: str, phrase: str
) -> None:
    client = Client(headers={"accept-language": language})
    page = client.get("/transparency/", {"year": "2025"}).content.decode()
    assert f'<html lang="{language}">' in page and phrase in page
    if language != "en":
        assert "Reports received" not in page and "Where the illegal URLs were hosted" not in page


def test_every_label_of_the_report_is_translated() -> None:
    from openhotline.stats import public_tables

    labels = [
        label
        for _, label in public_tables.SOURCES
        + public_tables.URL_KINDS
        + public_tables.HOSTING_KINDS
        + public_tables.ITEM_KINDS
    ]
    with translation.override("en"):
        english = [str(label) for label in labels]
    for language in ("da", "nl", "de", "fr"):
        with translation.override(language):
            translated = [str(label) for label in labels]
        assert not set(english) & set(translated), language


def test_the_figures_are_computed_once_per_cache_period(year_2025: None, settings: object) -> None:
    settings.OPENHOTLINE_TRANSPARENCY_CACHE_SECONDS = 600  # type: ignore[attr-defined]
    client = Client()
    with CaptureQueriesContext(connection) as first:
        client.get("/transparency/", {"year": "2025"})
    with CaptureQueriesContext(connection) as second:
        client.get("/transparency/", {"year": "2025"})
    assert len(second) < len(first) - 5


def test_unknown_years_and_hotlines_are_not_found(year_2025: None, hotline_a: Organisation) -> None:
    client = Client()
    assert client.get("/transparency/", {"year": "1999"}).status_code == 404
    assert client.get("/transparency/", {"year": "next"}).status_code == 404
    assert client.get("/transparency/no-such-hotline/").status_code == 404
    assert client.get("/transparency/hotline-a/").status_code == 200


def test_only_quarters_that_have_begun_are_reported() -> None:
    from datetime import UTC, datetime

    assert [q.number for q in quarters(2025, datetime(2025, 5, 1, tzinfo=UTC))] == [1, 2]
    assert quarters(2025, datetime(2025, 12, 31, tzinfo=UTC))[-1].end == datetime(
        2026, 1, 1, tzinfo=UTC
    )


def test_linked_tables_and_the_country_list_give_no_hidden_count_back() -> None:
    from openhotline.stats.public_tables import tables
    from openhotline.stats.transparency import YearFigures

    figures = YearFigures(2025, [1, 2])
    figures.reports = {key: [20, 20] for key in ("public", "partner", "email", "hotline", "staff")}
    # Q2: 5 not illegal is small, so the URL table withholds Q2's 15 illegal URLs;
    # the hosting table, whose total row repeats them, must withhold them too.
    figures.urls = {"illegal": [52, 15], "not_illegal": [30, 5], "pending": [20, 20]}
    # The year's 3 URLs of unknown country make the hosting table withhold the
    # smallest other kind (no member hotline: 10, all in Russia), so Russia,
    # though not small, is not listed: 67 − 42 − 12 − 10 would give the 3 back.
    figures.hosting = {"own": [30, 12], "member": [12, 0], "no_member": [10, 0], "unknown": [0, 3]}
    figures.items = {"baseline": [20, 20], "national": [20, 20]}
    figures.removed, figures.within_3_days, figures.median_removal = (
        [0, 0, 0],
        [0, 0, 0],
        [None] * 3,
    )
    figures.within_1_day, figures.within_7_days = [0, 0, 0], [0, 0, 0]
    figures.items_classified, figures.items_never_revealed = [40, 40, 80], [25, 5, 30]
    figures.countries = [
        ("DK", 42, frozenset({"own"})),
        ("NL", 12, frozenset({"member"})),
        ("RU", 10, frozenset({"no_member"})),
    ]
    _reports, urls, hosting, countries, _removal, exposure, _items = tables(figures, 10)
    # Q2: 5 of 40 never shown is a small count, so its share is not given.
    assert exposure.rows[1][1] == ["62.5 %", "–", "37.5 %"]
    # Q2 withheld takes Q1 with it (the year is shown), in both tables.
    assert urls.rows[0][1] == ["–", "–", "67"]
    assert hosting.rows[-1][1] == ["–", "–", "67"]
    assert hosting.rows[2][1][-1] == "–" and hosting.rows[3][1][-1] == "< 10"
    assert [str(name) for name, _ in countries.rows] == ["Denmark", "Netherlands"]


def po_entries(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file (enough of the format for our own files)."""
    entries: dict[str, str] = {}
    key, fuzzy = "", False
    msgid = msgstr = ""
    for line in [*path.read_text().splitlines(), ""]:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        if line.startswith("msgid "):
            key, msgid = "id", ast.literal_eval(line[6:])
        elif line.startswith("msgstr "):
            key, msgstr = "str", ast.literal_eval(line[7:])
        elif line.startswith('"'):
            if key == "id":
                msgid += ast.literal_eval(line)
            else:
                msgstr += ast.literal_eval(line)
        elif not line.strip() and key == "str":
            if msgid:
                entries[msgid] = "" if fuzzy else msgstr
            key, msgid, msgstr, fuzzy = "", "", "", False
    return entries


@pytest.mark.parametrize("language", ["da", "nl", "de", "fr"])
def test_the_catalogues_are_complete_and_compiled(language: str) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    entries = po_entries(folder / "django.po")
    assert len(entries) > 30
    assert all(entries.values()), [k for k, v in entries.items() if not v]
    with (folder / "django.mo").open("rb") as compiled:
        catalogue = gettext_module.GNUTranslations(compiled)
    assert {k: catalogue.gettext(k) for k in entries} == entries
