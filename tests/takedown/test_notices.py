"""Notices by SMTP to a real server: grouped per contact, re-sent, escalated, held, re-looked-up."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.crawler.actions import do_record_hosting
from openhotline.crawler.models import CrawlRun, CrawlState
from openhotline.crawler.policy import hosting_services
from openhotline.crawler.rdapcache import DbRdapCache
from openhotline.network.models import MemberHotline
from openhotline.reports.models import ReportedUrl, UrlState
from openhotline.takedown.actions.contacts import do_approve_contact
from openhotline.takedown.actions.notices import send_due_notices
from openhotline.takedown.models import (
    AbuseContact,
    CaseState,
    Notice,
    NoticeKind,
    NoticeState,
    NoticeTemplate,
    TakedownCase,
)
from tests.network.conftest import AssessFn, page_with_media
from tests.takedown.conftest import Internet, Mailbox


def record_trace(url: ReportedUrl) -> None:
    """Trace the URL's host on the loopback internet, as the crawl task would."""
    services = hosting_services(DbRdapCache())
    try:
        trace = services.trace(url.host, None, None)
    finally:
        services.close()
    do_record_hosting(CrawlRun.objects.create(reported_url=url, state=CrawlState.DONE), url, trace)


def illegal_url(
    hotline: Organisation, analyst: User, assess: AssessFn, url: str, seed: int
) -> ReportedUrl:
    page = page_with_media(hotline, url, images=1, first_seed=seed)
    record_trace(page)
    return assess(page, analyst)


def parsed(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


@pytest.fixture
def approve_all(admin: User) -> Any:
    def run() -> None:
        for contact in AbuseContact.objects.filter(approved_at__isnull=True):
            do_approve_contact(contact, actor=admin)

    return run


def test_one_mail_per_contact_with_all_its_urls(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
) -> None:
    internet.point("other.site.test", "127.0.0.9")
    first = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    second = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/b", 2)
    third = illegal_url(hotline_a, analyst, assess, "http://other.site.test/c", 3)
    assert {c.email for c in AbuseContact.objects.all()} == {
        "abuse@hoster.test",
        "abuse@other.test",
    }

    run = send_due_notices()
    assert run.sent == [] and run.waiting_for_approval == 3 and smtp.messages == []
    approve_all()
    run = send_due_notices()
    assert len(run.sent) == 2 and run.failed == []
    assert smtp.logins == ["notices", "notices"]
    by_rcpt = {tuple(rcpt): parsed(raw) for _, rcpt, raw in smtp.messages}
    hoster = by_rcpt[("abuse@hoster.test",)]
    body = text_of(hoster)
    assert first.url in body and second.url in body and third.url not in body
    assert "Hotline A" in hoster["Subject"]
    assert "seksuelt misbrug af børn" in hoster["Subject"]  # a Danish contact gets Danish
    # ... with the hotline's country named in Danish too.
    assert "i Danmark." in body and "Denmark" not in body
    assert {p.get_content_type() for p in hoster.walk()} >= {"text/plain", "text/html"}
    notice = Notice.objects.get(recipient="abuse@hoster.test")
    assert notice.state == NoticeState.SENT and notice.message_id == hoster["Message-ID"]
    assert hoster["X-Openhotline-Notice"] == notice.code
    assert third.url in text_of(by_rcpt[("abuse@other.test",)])
    for url in (first, second, third):
        url.refresh_from_db()
        case = TakedownCase.objects.get(reported_url=url)
        assert url.state == UrlState.NOTICE_SENT
        assert case.state == CaseState.NOTIFIED and case.notices_sent == 1
    assert send_due_notices().sent == []  # nothing is due again yet


def test_a_notice_is_sent_again_after_a_day_while_online(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
) -> None:
    url = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    approve_all()
    send_due_notices()
    case = TakedownCase.objects.get(reported_url=url)
    TakedownCase.objects.filter(pk=case.pk).update(
        last_notice_at=timezone.now() - timedelta(hours=23)
    )
    assert send_due_notices().sent == []
    TakedownCase.objects.filter(pk=case.pk).update(
        last_notice_at=timezone.now() - timedelta(hours=25)
    )
    assert len(send_due_notices().sent) == 1
    reminder = text_of(parsed(smtp.messages[-1][2]))
    assert "Stadig online" in reminder and url.url in reminder
    case.refresh_from_db()
    assert case.notices_sent == 2
    # Seen gone by a re-check: no reminder while the removal is being confirmed.
    TakedownCase.objects.filter(pk=case.pk).update(
        last_notice_at=timezone.now() - timedelta(hours=25), gone_streak=1
    )
    assert send_due_notices().sent == []


def test_still_online_after_n_days_escalates_to_the_registrar(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
    settings: Any,
) -> None:
    settings.OPENHOTLINE_NOTICE_ESCALATE_DAYS = 7
    url = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    approve_all()
    send_due_notices()
    case = TakedownCase.objects.get(reported_url=url)
    TakedownCase.objects.filter(pk=case.pk).update(
        contact_notified_at=timezone.now() - timedelta(days=8),
        last_notice_at=timezone.now() - timedelta(hours=2),
    )
    run = send_due_notices()
    assert run.sent == [] and run.waiting_for_approval == 1  # the registrar: not approved yet
    registrar = AbuseContact.objects.get(email="abuse@registrar.test")
    approve_all()
    assert len(send_due_notices().sent) == 1
    envelope_from, rcpt, raw = smtp.messages[-1]
    assert rcpt == ["abuse@registrar.test"]
    body = text_of(parsed(raw))
    assert url.url in body and "Loopback Hosting ApS" in body and "8" in body
    case.refresh_from_db()
    assert case.state == CaseState.ESCALATED and case.escalated_at is not None
    assert Notice.objects.get(contact=registrar).kind == NoticeKind.ESCALATION
    assert send_due_notices().sent == []  # escalated once


def test_an_upstream_set_by_an_admin_is_escalated_to_instead(
    hotline_a: Organisation,
    analyst: User,
    admin: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
) -> None:
    url = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    hoster = AbuseContact.objects.get(email="abuse@hoster.test")
    upstream = AbuseContact.objects.create(
        hotline=hotline_a,
        name="Transit A/S",
        email="abuse@transit.test",
        kind="upstream",
        source="manual",
    )
    hoster.escalate_to = upstream
    hoster.save()
    approve_all()
    send_due_notices()
    TakedownCase.objects.filter(reported_url=url).update(
        contact_notified_at=timezone.now() - timedelta(days=30),
        last_notice_at=timezone.now() - timedelta(hours=1),
    )
    send_due_notices()
    assert smtp.messages[-1][1] == ["abuse@transit.test"]


def test_police_first_holds_the_notice(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
) -> None:
    MemberHotline.objects.filter(organisation=hotline_a).update(police_first_hours=24)
    url = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    approve_all()
    assert send_due_notices().sent == []
    case = TakedownCase.objects.get(reported_url=url)
    assert case.not_before is not None and case.not_before > timezone.now()
    TakedownCase.objects.filter(pk=case.pk).update(not_before=timezone.now())
    assert len(send_due_notices().sent) == 1


def test_a_changed_hoster_sends_the_url_back_to_an_analyst(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
    as_user: Any,
) -> None:
    url = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    approve_all()
    send_due_notices()
    internet.point("gallery.site.test", "127.0.0.9")  # moved to Other Hosting
    case = TakedownCase.objects.get(reported_url=url)
    TakedownCase.objects.filter(pk=case.pk).update(
        last_notice_at=timezone.now() - timedelta(days=2)
    )
    sent_before = len(smtp.messages)
    run = send_due_notices()
    assert run.sent == [] and run.attention == [case.code]
    assert len(smtp.messages) == sent_before  # the old hoster is not mailed
    case.refresh_from_db()
    assert case.state == CaseState.ATTENTION
    assert "abuse@other.test" in case.attention_reason

    response = as_user(analyst).post(f"/app/takedown/cases/{case.code}/resolve/")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.contact is not None and case.contact.email == "abuse@other.test"
    assert case.state == CaseState.WAITING  # for the new contact's approval
    approve_all()
    assert len(send_due_notices().sent) == 1
    assert smtp.messages[-1][1] == ["abuse@other.test"]
    first_to_them = text_of(parsed(smtp.messages[-1][2]))
    assert url.url in first_to_them and "Stadig online" not in first_to_them


def test_an_unknown_hosting_now_sends_nothing_and_keeps_the_case(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
) -> None:
    url = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    approve_all()
    del internet.dns.records["gallery.site.test"]  # no answer at the moment
    run = send_due_notices()
    assert run.sent == [] and run.attention == []
    assert TakedownCase.objects.get(reported_url=url).state == CaseState.WAITING


def test_a_refused_login_fails_the_notice_and_keeps_it_due(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
    settings: Any,
) -> None:
    illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    approve_all()
    settings.OPENHOTLINE_SMTP_PASSWORD = "wrong"
    run = send_due_notices()
    assert run.sent == [] and len(run.failed) == 1
    notice = Notice.objects.get()
    assert notice.state == NoticeState.FAILED and "SMTP" in notice.error
    settings.OPENHOTLINE_SMTP_PASSWORD = "smtp secret 1"
    assert len(send_due_notices().sent) == 1


def test_the_hotlines_own_template_is_used(
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    internet: Internet,
    smtp: Mailbox,
    approve_all: Any,
) -> None:
    NoticeTemplate.objects.create(
        hotline=hotline_a,
        kind="notice",
        language="da",
        subject="Fjern venligst {{ new_lines|length }} adresse(r) · {{ notice_code }}",
        text="{% for line in new_lines %}{{ line.url }}\n{% endfor %}",
        html="",
    )
    url = illegal_url(hotline_a, analyst, assess, "http://gallery.site.test/a", 1)
    approve_all()
    send_due_notices()
    message = parsed(smtp.messages[-1][2])
    notice = Notice.objects.get()
    assert message["Subject"] == f"Fjern venligst 1 adresse(r) · {notice.code}"
    assert text_of(message).strip() == url.url
    assert not message.is_multipart() or all(
        p.get_content_type() != "text/html" for p in message.walk()
    )
