"""Picking an approved abuse contact from a takedown case."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource
from openhotline.takedown.models import AbuseContact, CaseState, TakedownCase

pytestmark = pytest.mark.django_db


def contact(hotline: Organisation, name: str, *, approved: bool = True) -> AbuseContact:
    return AbuseContact.objects.create(
        hotline=hotline,
        name=name,
        email=f"abuse@{name}.test",
        kind="hoster",
        source="manual",
        approved_at=timezone.now() if approved else None,
    )


def case_for(hotline: Organisation) -> TakedownCase:
    url = do_file_report(hotline, source=ReportSource.PUBLIC, urls=["http://x.test/a"]).urls.get()
    return TakedownCase.objects.create(
        reported_url=url,
        hotline=hotline,
        state=CaseState.ATTENTION,
        attention_reason="no contact",
        next_check_at=timezone.now(),
    )


def test_an_analyst_picks_an_approved_contact_and_notices_resume(
    hotline_a: Organisation, analyst: User, as_user
) -> None:
    case = case_for(hotline_a)
    good = contact(hotline_a, "goodhost")
    client = as_user(analyst)
    page = client.get(f"/app/takedown/cases/{case.code}/").content.decode()
    assert good.code in page
    client.post(f"/app/takedown/cases/{case.code}/contact/", {"contact": good.code})
    case.refresh_from_db()
    assert case.contact == good and case.state == CaseState.WAITING
    assert case.contact_notified_at is None and case.attention_reason == ""
    assert AuditEvent.objects.filter(action="takedown.contact_picked", actor=analyst).exists()


def test_an_unapproved_contact_is_refused_with_the_reason(
    hotline_a: Organisation, analyst: User, as_user
) -> None:
    case = case_for(hotline_a)
    pending = contact(hotline_a, "pending", approved=False)
    client = as_user(analyst)
    assert pending.code not in client.get(f"/app/takedown/cases/{case.code}/").content.decode()
    page = client.post(
        f"/app/takedown/cases/{case.code}/contact/", {"contact": pending.code}, follow=True
    ).content.decode()
    assert "not an approved contact" in page
    case.refresh_from_db()
    assert case.contact is None and case.state == CaseState.ATTENTION


def test_another_hotlines_contact_or_case_is_out_of_reach(
    hotline_a: Organisation, hotline_b: Organisation, analyst: User, outsider: User, as_user
) -> None:
    case = case_for(hotline_a)
    foreign = contact(hotline_b, "foreign")
    page = (
        as_user(analyst)
        .post(f"/app/takedown/cases/{case.code}/contact/", {"contact": foreign.code}, follow=True)
        .content.decode()
    )
    assert "Choose one of the hotline" in page
    good = contact(hotline_a, "goodhost")
    response = as_user(outsider).post(
        f"/app/takedown/cases/{case.code}/contact/", {"contact": good.code}
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.contact is None


def test_bulk_close_closes_each_selected_case_and_reports_refusals(
    hotline_a: Organisation, analyst: User, as_user
) -> None:
    first = case_for(hotline_a)
    url = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://x.test/b"]).urls.get()
    second = TakedownCase.objects.create(
        reported_url=url, hotline=hotline_a, state=CaseState.REMOVED, next_check_at=timezone.now()
    )
    page = (
        as_user(analyst)
        .post(
            f"/app/takedown/{hotline_a.slug}/close-selected/",
            {
                "codes": [first.code, second.code, "NOPE"],
                "reason": "duplicate reports",
                "tab": "attention",
            },
            follow=True,
        )
        .content.decode()
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == CaseState.CLOSED and first.attention_reason == "duplicate reports"
    assert second.state == CaseState.REMOVED
    assert "Done for 1 selected" in page and f"{second.code}: this case is already finished" in page
    assert "NOPE: no such case" in page


def test_bulk_close_needs_a_reason_and_stays_in_the_hotline(
    hotline_a: Organisation, analyst: User, outsider: User, as_user
) -> None:
    case = case_for(hotline_a)
    as_user(analyst).post(f"/app/takedown/{hotline_a.slug}/close-selected/", {"codes": [case.code]})
    case.refresh_from_db()
    assert case.state == CaseState.ATTENTION
    response = as_user(outsider).post(
        f"/app/takedown/{hotline_a.slug}/close-selected/", {"codes": [case.code], "reason": "x"}
    )
    assert response.status_code == 404
    as_user(outsider).post(
        "/app/takedown/hotline-b/close-selected/", {"codes": [case.code], "reason": "x"}
    )
    case.refresh_from_db()
    assert case.state == CaseState.ATTENTION
