from __future__ import annotations

import io
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.intake.keys import decrypt_email
from openhotline.intake.models import ReporterContact, SourceCounter
from openhotline.intake.tasks import erase_expired_intake_data
from openhotline.reports.models import Report, ReportedUrl, ReportLink

pytestmark = pytest.mark.django_db

REPORTER_IP = "203.0.113.187"


def send(client: Client, data: dict[str, Any], path: str = "/report/", **extra: Any) -> Any:
    """Load the form (for its CSRF cookie) and post it, as a browser does."""
    client.get(path, **extra)
    token = client.cookies["csrftoken"].value
    return client.post(path, {"csrfmiddlewaretoken": token, **data}, **extra)


def rows() -> tuple[int, ...]:
    return (
        Report.objects.count(),
        ReportedUrl.objects.count(),
        ReportLink.objects.count(),
        ReporterContact.objects.count(),
        SourceCounter.objects.count(),
        AuditEvent.objects.filter(action="report.filed").count(),
    )


@pytest.mark.parametrize(
    ("language", "title", "button"),
    [
        ("en", "Report child sexual abuse material", "Send report"),
        ("da", "Anmeld materiale med seksuelt misbrug af børn", "Send anmeldelse"),
        ("nl", "Meld beelden van seksueel misbruik van kinderen", "Melding versturen"),
        ("de", "Darstellungen sexuellen Kindesmissbrauchs melden", "Meldung senden"),
        ("fr", "Signaler des contenus d’abus sexuels sur des enfants", "Envoyer le signalement"),
    ],
)
def test_the_form_renders_in_the_browsers_language(
    hotline_a: Organisation, reporter: Client, language: str, title: str, button: str
) -> None:
    response = reporter.get("/report/", HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{language}">' in html
    assert title in html and button in html
    # Accessible: every visible field has a label, and the form posts without JavaScript.
    for field in ("id_urls", "id_description", "id_where_found", "id_email", "id_comment"):
        assert f'for="{field}"' in html and f'id="{field}"' in html
    assert "<script" not in html


def test_the_language_switcher_changes_the_language(hotline_a: Organisation) -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/report/"})
    assert response.status_code == 302 and response["Location"] == "/report/"
    assert "Envoyer le signalement" in client.get("/report/").content.decode()


def test_a_report_round_trips_to_its_status_page(hotline_a: Organisation, reporter: Client) -> None:
    response = send(
        reporter,
        {
            "urls": "HTTP://Gallery.TEST:80/a#top\n\nhttps://gallery.test/b\n",
            "where_found": "social",
            "comment": "found via a forum",
        },
    )
    assert response.status_code == 200
    report = Report.objects.get()
    assert report.code in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert report.hotline == hotline_a and report.source == "public"
    assert report.where_found == "A social network" and report.language == "en"
    assert sorted(report.urls.values_list("normalized_url", flat=True)) == [
        "http://gallery.test/a",
        "https://gallery.test/b",
    ]
    typed = report.code.replace("-", "").lower()
    page = send(reporter, {"code": typed}, path="/report/status/").content.decode()
    assert "<strong>Received</strong>" in page
    assert "gallery.test" not in page and hotline_a.name not in page


def test_an_unknown_receipt_code_is_said_so(hotline_a: Organisation, reporter: Client) -> None:
    response = send(reporter, {"code": "AAAAA-BBBBB"}, path="/report/status/")
    assert response.status_code == 400
    assert "No report has this receipt code" in response.content.decode()


def test_staff_of_another_hotline_learn_only_the_public_status(
    hotline_a: Organisation, outsider: User, as_user: Any
) -> None:
    form = f"/report/{hotline_a.slug}/"
    report = send(Client(), {"urls": "http://gallery.test/a"}, path=form).context["report"]
    client = as_user(outsider)
    client.get("/report/status/")
    page = client.post("/report/status/", {"code": report.code}).content.decode()
    assert "<strong>Received</strong>" in page
    assert "gallery.test" not in page and hotline_a.name not in page
    assert client.get(f"/app/reports/{report.code}/").status_code == 404


def test_a_description_is_enough_without_a_url(hotline_a: Organisation, reporter: Client) -> None:
    response = send(reporter, {"description": "A video in a game chat", "where_found": "game"})
    assert response.status_code == 200
    report = Report.objects.get()
    assert report.description == "A video in a game chat" and report.urls.count() == 0


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"urls": "http://ok.test/\njavascript:alert(1)"}, 400, "Line 2: only addresses"),
        ({"urls": "http://bad host.test/"}, 400, "Line 1: the site name"),
        ({"urls": "http://x.test/" + "a" * 3000}, 400, "longer than 2048 characters"),
        ({"urls": "\n".join(f"http://x.test/{i}" for i in range(51))}, 400, "at most 50"),
        ({"urls": ""}, 400, "Enter at least one web address"),
        ({"urls": "http://ok.test/", "homepage": "http://spam.test"}, 400, "automated programs"),
        ({"urls": "http://ok.test/", "comment": "x" * 300_000}, 413, "too long"),
        ({"urls": "http://ok.test/", "email": "a@b.test"}, 400, "Tick this box"),
    ],
    ids=["scheme", "host", "long-url", "51-urls", "empty", "honeypot", "oversize", "consent"],
)
def test_a_refused_report_leaves_no_rows_and_says_why(
    hotline_a: Organisation, reporter: Client, data: dict[str, str], status: int, message: str
) -> None:
    response = send(reporter, data)
    assert response.status_code == status
    assert message in response.content.decode()
    assert rows() == (0, 0, 0, 0, 0, 0)


def test_a_form_without_its_csrf_token_is_refused_readably(
    hotline_a: Organisation, reporter: Client
) -> None:
    response = reporter.post("/report/", {"urls": "http://ok.test/"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 403
    assert "Das Formular ist abgelaufen" in response.content.decode()
    assert rows() == (0, 0, 0, 0, 0, 0)


def test_a_flood_of_fields_is_refused_readably(hotline_a: Organisation, reporter: Client) -> None:
    fields = {f"f{i}": "x" for i in range(1100)}  # over Django's 1000-field limit
    response = send(reporter, {"urls": "http://ok.test/", **fields})
    assert response.status_code == 413 and "Your report is too long" in response.content.decode()
    assert rows() == (0, 0, 0, 0, 0, 0)


def test_a_flood_is_refused_in_the_reporters_language(
    hotline_a: Organisation, reporter: Client, settings: Any
) -> None:
    settings.OPENHOTLINE_INTAKE_RATE_LIMIT = 3
    for i in range(3):
        assert send(reporter, {"urls": f"http://ok.test/{i}"}).status_code == 200
    before = rows()
    response = send(reporter, {"urls": "http://ok.test/flood"}, HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 429 and response["Retry-After"] == "600"
    assert "Te veel meldingen in korte tijd" in response.content.decode()
    assert rows() == before
    # Another source is not held back by this one.
    other = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.9")
    assert send(other, {"urls": "http://ok.test/other"}).status_code == 200


def test_no_raw_address_is_stored_or_logged(
    hotline_a: Organisation, reporter: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    send(reporter, {"urls": "http://ok.test/", "email": "me@mail.test", "contact_consent": "on"})
    send(reporter, {"urls": "http://ok.test/", "homepage": "bot"})
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert REPORTER_IP not in dump.getvalue() and REPORTER_IP not in caplog.text
    assert "me@mail.test" not in dump.getvalue()
    counter = SourceCounter.objects.get()
    assert counter.expires_at - timezone.now() <= timedelta(days=1)


def test_the_reporters_email_is_encrypted_and_erased_after_retention(
    hotline_a: Organisation, reporter: Client, settings: Any
) -> None:
    settings.OPENHOTLINE_REPORTER_EMAIL_RETENTION_DAYS = 30
    send(reporter, {"urls": "http://ok.test/", "email": "Me@Mail.test", "contact_consent": "on"})
    contact = ReporterContact.objects.select_related("report").get()
    assert b"Mail.test" not in bytes(contact.email_ciphertext)
    assert decrypt_email(contact.email_ciphertext, context=contact.report.code) == "Me@Mail.test"
    due = contact.erase_after - timezone.now()
    assert timedelta(days=29) < due <= timedelta(days=30)
    assert erase_expired_intake_data() == {
        "reporter_contacts": 0,
        "rate_counters": 0,
        "idempotency_records": 0,
    }
    ReporterContact.objects.update(erase_after=timezone.now() - timedelta(seconds=1))
    SourceCounter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert erase_expired_intake_data()["reporter_contacts"] == 1
    assert not ReporterContact.objects.exists() and not SourceCounter.objects.exists()
    assert AuditEvent.objects.filter(action="reporter_contact.erased").count() == 1
    assert Report.objects.exists()


def test_several_hotlines_offer_a_choice_and_each_has_its_form(
    hotline_a: Organisation, hotline_b: Organisation, reporter: Client
) -> None:
    page = reporter.get("/report/").content.decode()
    assert f"/report/{hotline_a.slug}/" in page and f"/report/{hotline_b.slug}/" in page
    response = send(reporter, {"urls": "http://ok.test/"}, path=f"/report/{hotline_b.slug}/")
    assert response.status_code == 200
    assert Report.objects.get().hotline == hotline_b
    assert reporter.get("/report/no-such-hotline/").status_code == 404


def test_the_public_hotline_setting_chooses_among_several(
    hotline_a: Organisation, hotline_b: Organisation, reporter: Client, settings: Any
) -> None:
    settings.OPENHOTLINE_PUBLIC_HOTLINE = hotline_b.slug
    send(reporter, {"urls": "http://ok.test/"})
    assert Report.objects.get().hotline == hotline_b


def test_without_a_hotline_the_form_says_it_is_unavailable(db: Any, reporter: Client) -> None:
    response = reporter.get("/report/", HTTP_ACCEPT_LANGUAGE="da")
    assert response.status_code == 503
    assert "Anmeldelse er endnu ikke mulig" in response.content.decode()
