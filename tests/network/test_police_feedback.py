"""The loop back to the hotline: police acknowledge, decide, report outcomes; reminders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import mail
from django.test import Client
from django.utils import timezone
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.actions import do_create_organisation, do_create_user
from openhotline.accounts.models import Role, User
from openhotline.audit.models import AuditEvent
from openhotline.network.actions.police_feedback import (
    do_remind_unacknowledged,
    reminder_language,
)
from openhotline.network.models import PoliceReferral, ReferralDecision
from openhotline.reports.models import TimelineEntry
from tests.network.conftest import referral_timeline
from tests.network.test_api import key_for


def test_police_acknowledge_accept_and_report_outcomes_which_the_hotline_sees(
    referral: PoliceReferral, police: User, analyst: User, as_user: Any, client: Client
) -> None:
    officer = as_user(police)
    base = f"/lea/referrals/{referral.code}"
    assert officer.post(f"{base}/acknowledge/").status_code == 302
    officer.post(f"{base}/acknowledge/")  # twice: one entry
    assert referral_timeline(referral) == ["network.referral_acknowledged"]

    # A decision needs a reason: refused without one, nothing written.
    refused = officer.post(f"{base}/accept/", {"reason": "  "}, follow=True)
    assert "Give a reason." in refused.content.decode()
    referral.refresh_from_db()
    assert referral.decision == ""
    # Outcomes only on an accepted referral.
    officer.post(f"{base}/victim/")
    assert referral_timeline(referral) == ["network.referral_acknowledged"]

    officer.post(f"{base}/accept/", {"reason": "Assigned to the cyber unit"})
    officer.post(f"{base}/decline/", {"reason": "changed my mind"})  # a decision stands
    officer.post(f"{base}/investigation/")
    officer.post(f"{base}/victim/")
    referral.refresh_from_db()
    assert referral.decision == ReferralDecision.ACCEPTED
    assert referral.decision_reason == "Assigned to the cyber unit"
    assert referral.acknowledged_by == police
    assert referral.investigation_opened_at and referral.victim_identified_at
    assert referral_timeline(referral) == [
        "network.referral_acknowledged",
        "network.referral_accepted",
        "network.referral_investigation_opened",
        "network.referral_victim_identified",
    ]
    actions = set(AuditEvent.objects.filter(object_id=referral.code).values_list("action", "actor"))
    assert ("network.referral_accepted", police.pk) in actions

    # The hotline's URL page shows the police's answers on its timeline.
    page = as_user(analyst).get(f"/app/urls/{referral.reported_url.code}/").content.decode()
    assert "accepted by the police (Police DK): Assigned to the cyber unit" in page
    assert "a victim was identified" in page
    # And the API says the same.
    [row] = client.get(
        "/api/v1/lea/referrals", headers=key_for(police.memberships.get().organisation)
    ).json()
    assert row["decision"] == "accepted" and row["victim_identified_at"] is not None


def test_a_declined_referral_needs_a_reason_and_goes_to_the_end_of_the_list(
    referral: PoliceReferral, police: User, as_user: Any
) -> None:
    officer = as_user(police)
    officer.post(f"/lea/referrals/{referral.code}/decline/", {"reason": "Outside our remit"})
    referral.refresh_from_db()
    assert referral.decision == ReferralDecision.DECLINED and referral.acknowledged_at
    assert referral_timeline(referral) == [
        "network.referral_acknowledged",
        "network.referral_declined",
    ]
    assert referral.code not in officer.get("/lea/referrals/?show=open").content.decode()
    assert referral.code in officer.get("/lea/referrals/").content.decode()


def test_an_unacknowledged_referral_is_reminded_once(
    referral: PoliceReferral, police: User, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_LEA_REMIND_AFTER_HOURS = 24
    police.email = "paula@police-dk.test"
    police.save(update_fields=["email"])
    assert do_remind_unacknowledged() == 0  # too young
    later = timezone.now() + timedelta(hours=25)
    assert do_remind_unacknowledged(now=later) == 1
    assert do_remind_unacknowledged(now=later) == 0
    assert [m.to for m in mail.outbox] == [["paula@police-dk.test"]]
    assert referral.code in mail.outbox[0].body
    assert referral_timeline(referral) == ["network.referral_reminded"]


def test_an_acknowledged_referral_is_not_reminded(
    referral: PoliceReferral, police: User, as_user: Any
) -> None:
    as_user(police).post(f"/lea/referrals/{referral.code}/acknowledge/")
    assert do_remind_unacknowledged(now=timezone.now() + timedelta(days=3)) == 0
    assert mail.outbox == []


def test_outsiders_get_not_found(
    referral: PoliceReferral, police_nl: User, analyst: User, as_user: Any
) -> None:
    dutch, staff = as_user(police_nl), as_user(analyst)
    base = f"/lea/referrals/{referral.code}"
    for path in ("acknowledge/", "accept/", "decline/", "investigation/", "victim/"):
        assert dutch.post(f"{base}/{path}", {"reason": "x"}).status_code == 404
        assert staff.post(f"{base}/{path}", {"reason": "x"}).status_code == 404
    # A second officer of another Danish organisation? Same country, same referrals;
    # an auditor of the police organisation is no officer.
    auditor = do_create_user(
        "audrey",
        police_nl.memberships.get().organisation,
        Role.AUDITOR,
        password="correct horse 77",
    )
    assert as_user(auditor).post(f"{base}/acknowledge/").status_code == 404
    assert referral_timeline(referral) == []


def test_the_reminder_is_in_the_receiving_agencys_language(
    referral: PoliceReferral, police: User, settings: SettingsWrapper
) -> None:
    """The police of Denmark read Danish, as a Danish hoster reads its notices."""
    settings.OPENHOTLINE_LEA_REMIND_AFTER_HOURS = 24
    police.email = "paula@police-dk.test"
    police.save(update_fields=["email"])
    assert do_remind_unacknowledged(now=timezone.now() + timedelta(hours=25)) == 1
    [message] = mail.outbox
    assert message.subject == f"Politianmeldelse {referral.code} er endnu ikke kvitteret"
    assert "er ikke blevet kvitteret efter 24 timer" in message.body
    assert f"/lea/referrals/{referral.code}/" in message.body
    # The hotline's timeline keeps its English line.
    entry = TimelineEntry.objects.get(
        reported_url=referral.reported_url, kind="network.referral_reminded"
    )
    assert entry.message.startswith(f"Referral {referral.code} not acknowledged after 24 h")


def test_a_reminder_falls_back_to_the_hotlines_language(db: Any) -> None:
    danish_hotline = do_create_organisation("Hotline DK", "hotline", "DK")
    swedish_hotline = do_create_organisation("Hotline SE", "hotline", "SE")
    german_police = do_create_organisation("Polizei DE", "lea", "DE")
    swedish_police = do_create_organisation("Polisen SE", "lea", "SE")
    assert reminder_language(german_police, danish_hotline) == "de"  # the agency's own
    assert reminder_language(swedish_police, danish_hotline) == "da"  # else the hotline's
    assert reminder_language(swedish_police, swedish_hotline) == "en"  # else English
