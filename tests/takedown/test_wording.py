"""The built-in notice templates in five languages, and the hotline's own."""

from __future__ import annotations

import pytest

from openhotline.takedown.models import TemplateKind
from openhotline.takedown.wording import (
    LANGUAGES,
    check_template,
    default_wording,
    language_for,
    render,
)

CONTEXT = {
    "hotline": {"name": "Hotline A", "contact_email": "info@hotline-a.test"},
    "hotline_country": "Denmark",
    "contact": {"name": "Hoster <Ops>"},
    "greeting_line": "Dear Hoster <Ops>,",
    "notice_code": "ABCDEF-GHJKLM",
    "new_lines": [
        {"url": "http://bad.test/a?x=1&y=<2>", "reference": "R1", "address": "192.0.2.1"}
    ],
    "reminder_lines": [{"url": "http://bad.test/old", "reference": "R2", "first_notice": None}],
    "hoster": "Hoster A/S",
    "days": 8,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", TemplateKind.values)
def test_every_built_in_template_renders_the_urls(kind: str, language: str) -> None:
    wording = default_wording(kind, language)
    for source in (wording.subject, wording.text, wording.html):
        assert check_template(source) is None
    done = render(wording, {**CONTEXT, "escalation": kind == TemplateKind.ESCALATION})
    assert "ABCDEF-GHJKLM" in done.subject and "\n" not in done.subject
    assert "http://bad.test/a?x=1&y=<2>" in done.text  # the text part is not HTML-escaped
    assert "http://bad.test/a?x=1&amp;y=&lt;2&gt;" in done.html  # the HTML part is
    assert "http://bad.test/old" in done.text
    if kind == TemplateKind.ESCALATION:
        assert "Hoster A/S" in done.text and "8" in done.text


def test_the_languages_differ() -> None:
    subjects = {default_wording("notice", language).subject for language in LANGUAGES}
    assert len(subjects) == len(LANGUAGES)


def test_a_contacts_language_comes_from_its_setting_or_its_country() -> None:
    assert language_for("fr", "DK") == "fr"
    assert language_for("", "DK") == "da"
    assert language_for("", "AT") == "de"
    assert language_for("", "US") == "en"
    assert language_for("xx", "NL") == "nl"


def test_a_template_cannot_reach_files() -> None:
    problem = check_template('{% include "base.html" %}')
    assert problem is not None and "base.html" in problem
    assert check_template("{% if %}") is not None
    assert check_template("{{ new_lines|length }} {{ notice_code }}") is None


def test_country_names_are_in_the_notices_language() -> None:
    from openhotline.takedown.wording import country_name

    names = {lang: country_name("DK", lang) for lang in ("en", "da", "nl", "de", "fr")}
    assert names == {
        "en": "Denmark",
        "da": "Danmark",
        "nl": "Denemarken",
        "de": "Dänemark",
        "fr": "Danemark",
    }
    assert country_name("", "da") == ""
