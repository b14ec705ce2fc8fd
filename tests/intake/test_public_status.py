"""The public status of a report follows its URLs (received, being assessed, closed).

The reporter learns progress, never the outcome: a page assessed illegal and a
page assessed not illegal close alike, in every language of the form.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.claims import do_claim_url
from openhotline.reports.models import Report, ReportedUrl, ReportState, UrlState
from tests.intake.test_views import send

pytestmark = pytest.mark.django_db

LANGUAGES = {
    "en": ("Received", "Being assessed", "Closed"),
    "da": ("Modtaget", "Under vurdering", "Afsluttet"),
    "nl": ("Ontvangen", "Wordt beoordeeld", "Afgesloten"),
    "de": ("Eingegangen", "Wird geprüft", "Abgeschlossen"),
    "fr": ("Reçu", "En cours d’examen", "Clôturé"),
}


def status_of(client: Client, code: str, language: str = "en") -> str:
    return send(
        client, {"code": code}, path="/report/status/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()


def file_two_urls(client: Client) -> Report:
    send(client, {"urls": "http://gallery.test/a\nhttp://gallery.test/b"})
    return Report.objects.get()


def set_state(report: Report, url: str, state: str) -> None:
    ReportedUrl.objects.filter(reports=report, url=url).update(state=state)


@pytest.mark.parametrize("outcome", [UrlState.ILLEGAL, UrlState.NOT_ILLEGAL])
def test_the_status_moves_from_received_to_assessing_to_closed(
    hotline_a: Organisation, reporter: Client, outcome: str
) -> None:
    report = file_two_urls(reporter)
    assert "<strong>Received</strong>" in status_of(reporter, report.code)
    set_state(report, "http://gallery.test/a", UrlState.AWAITING_ASSESSMENT)
    assert "<strong>Received</strong>" in status_of(reporter, report.code)
    set_state(report, "http://gallery.test/a", outcome)
    page = status_of(reporter, report.code)
    assert "<strong>Being assessed</strong>" in page
    set_state(report, "http://gallery.test/b", UrlState.NOT_ILLEGAL)
    page = status_of(reporter, report.code)
    assert "<strong>Closed</strong>" in page
    # Nothing says what was found: the same words for either outcome.
    for word in ("illegal", "Illegal", "gallery.test", "notice", "police"):
        assert word not in page.split("<main", 1)[-1]


def test_an_analyst_opening_a_url_makes_it_being_assessed(
    hotline_a: Organisation, reporter: Client, analyst: User
) -> None:
    report = file_two_urls(reporter)
    reported_url = ReportedUrl.objects.get(url="http://gallery.test/b")
    ReportedUrl.objects.filter(pk=reported_url.pk).update(state=UrlState.AWAITING_ASSESSMENT)
    reported_url.refresh_from_db()
    do_claim_url(reported_url, analyst)
    assert "<strong>Being assessed</strong>" in status_of(reporter, report.code)


def test_a_report_without_urls_keeps_its_own_state(
    hotline_a: Organisation, reporter: Client
) -> None:
    send(reporter, {"description": "A video in a game chat", "where_found": "game"})
    report = Report.objects.get()
    assert "<strong>Received</strong>" in status_of(reporter, report.code)
    Report.objects.filter(pk=report.pk).update(state=ReportState.CLOSED)
    assert "<strong>Closed</strong>" in status_of(reporter, report.code)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_each_status_is_said_in_the_reporters_language(
    hotline_a: Organisation, reporter: Client, language: str
) -> None:
    report = file_two_urls(reporter)
    received, assessing, closed = LANGUAGES[language]
    assert f"<strong>{received}</strong>" in status_of(reporter, report.code, language)
    set_state(report, "http://gallery.test/a", UrlState.NOT_ILLEGAL)
    assert f"<strong>{assessing}</strong>" in status_of(reporter, report.code, language)
    set_state(report, "http://gallery.test/b", UrlState.REMOVED)
    assert f"<strong>{closed}</strong>" in status_of(reporter, report.code, language)


def test_a_tracking_parameter_does_not_make_a_new_url(
    hotline_a: Organisation, reporter: Client, as_user: Any
) -> None:
    send(reporter, {"urls": "http://gallery.test/gallery/0"})
    send(Client(), {"urls": "http://gallery.test/gallery/0?utm_source=x&fbclid=y"})
    send(Client(), {"urls": "http://gallery.test/gallery/0?gclid=1&mc_eid=2"})
    assert Report.objects.count() == 3
    reported_url = ReportedUrl.objects.get()
    assert reported_url.url == "http://gallery.test/gallery/0"
    assert reported_url.reports.count() == 3
