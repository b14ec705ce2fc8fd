"""Takedown pages: cases, notices, contacts, templates; outsiders get "not found"."""

from __future__ import annotations

from typing import Any

import pytest

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.reports.models import ReportedUrl
from openhotline.takedown.actions.contacts import do_approve_contact
from openhotline.takedown.models import (
    AbuseContact,
    CaseState,
    Notice,
    NoticeKind,
    NoticeState,
    NoticeTemplate,
    TakedownCase,
)
from tests.network.conftest import AssessFn, page_with_media, record_hosting


@pytest.fixture
def case(hotline_a: Organisation, analyst: User, assess: AssessFn) -> TakedownCase:
    page = page_with_media(hotline_a, "http://gallery.test/v", images=1)
    record_hosting(page, country="DK")
    assess(page, analyst)
    return TakedownCase.objects.get(reported_url=page)


@pytest.fixture
def notice(case: TakedownCase) -> Notice:
    assert case.contact is not None
    return Notice.objects.create(
        hotline=case.hotline,
        contact=case.contact,
        kind=NoticeKind.NOTICE,
        recipient=case.contact.email,
        language="da",
        subject="Materiale",
        text=f"Fjern {case.reported_url.url}",
        state=NoticeState.SENT,
    )


def paths(case: TakedownCase, notice: Notice) -> list[str]:
    assert case.contact is not None
    return [
        f"/app/takedown/{case.hotline.slug}/",
        f"/app/takedown/{case.hotline.slug}/contacts/",
        f"/app/takedown/cases/{case.code}/",
        f"/app/takedown/notices/{notice.code}/",
        f"/app/takedown/contacts/{case.contact.code}/",
    ]


def test_analysts_see_their_hotlines_cases_notices_and_contacts(
    case: TakedownCase, notice: Notice, analyst: User, as_user: Any
) -> None:
    client = as_user(analyst)
    for path in paths(case, notice):
        assert client.get(path).status_code == 200, path
    listing = client.get(f"/app/takedown/{case.hotline.slug}/?tab=waiting").content.decode()
    assert case.code in listing
    assert (
        case.reported_url.url
        in client.get(f"/app/takedown/notices/{notice.code}/").content.decode()
    )


def test_the_outsider_and_the_police_get_not_found(
    case: TakedownCase, notice: Notice, outsider: User, police: User, as_user: Any
) -> None:
    contact = case.contact
    assert contact is not None
    for user in (outsider, police):
        client = as_user(user)
        for path in paths(case, notice):
            assert client.get(path).status_code == 404, path
        assert (
            client.post(f"/app/takedown/cases/{case.code}/close/", {"reason": "x"}).status_code
            == 404
        )
        assert client.post(f"/app/takedown/contacts/{contact.code}/approve/").status_code == 404
    case.refresh_from_db()
    assert case.state == CaseState.WAITING


def test_only_an_admin_approves_edits_and_merges_contacts(
    case: TakedownCase, analyst: User, admin: User, hotline_a: Organisation, as_user: Any
) -> None:
    contact = case.contact
    assert contact is not None
    assert (
        as_user(analyst).post(f"/app/takedown/contacts/{contact.code}/approve/").status_code == 404
    )
    edit = {"name": "Hoster", "email": "evil@attacker.test", "kind": "hoster"}
    assert as_user(analyst).post(f"/app/takedown/contacts/{contact.code}/", edit).status_code == 404
    contact.refresh_from_db()
    assert not contact.is_approved() and contact.email == "abuse@hoster.test"

    client = as_user(admin)
    assert client.post(f"/app/takedown/contacts/{contact.code}/approve/").status_code == 302
    contact.refresh_from_db()
    assert contact.is_approved()
    response = client.post(
        f"/app/takedown/contacts/{contact.code}/",
        {
            "name": "Hoster A/S",
            "email": "Abuse-Desk@Hoster.test",
            "kind": "hoster",
            "country": "dk",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.email == "abuse-desk@hoster.test" and contact.country == "DK"
    assert not contact.is_approved()  # a changed address needs approving again

    duplicate = AbuseContact.objects.create(
        hotline=hotline_a,
        name="Hoster (old)",
        email="old@hoster.test",
        kind="hoster",
        source="rdap",
    )
    TakedownCase.objects.filter(pk=case.pk).update(contact=duplicate)
    response = client.post(
        f"/app/takedown/contacts/{duplicate.code}/merge/", {"into": contact.code}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    case.refresh_from_db()
    assert duplicate.merged_into == contact and case.contact == contact
    assert AuditEvent.objects.filter(action="takedown.contact_merged").exists()
    from openhotline.takedown.actions.contacts import find_contact

    assert find_contact(hotline_a, email="old@hoster.test") == contact


def test_a_contact_without_an_address_cannot_be_approved(
    hotline_a: Organisation, admin: User
) -> None:
    from openhotline.takedown.actions.contacts import ContactError

    nameless = AbuseContact.objects.create(
        hotline=hotline_a, name="Mystery Hosting", kind="hoster", source="rdap"
    )
    with pytest.raises(ContactError):
        do_approve_contact(nameless, actor=admin)


def test_admins_edit_notice_templates_and_bad_syntax_is_refused(
    case: TakedownCase, admin: User, analyst: User, outsider: User, as_user: Any
) -> None:
    slug = case.hotline.slug
    url = f"/app/takedown/{slug}/templates/notice/da/"
    for user in (analyst, outsider):
        assert as_user(user).get(f"/app/takedown/{slug}/templates/").status_code == 404
        assert as_user(user).post(url, {"subject": "x", "text": "y"}).status_code == 404
    client = as_user(admin)
    form = client.get(url).content.decode()
    assert "seksuelt misbrug" in form  # starts from the built-in Danish text
    bad = client.post(url, {"subject": "{% if %}", "text": "ok", "html": ""})
    assert bad.status_code == 200 and "template error" in bad.content.decode()
    assert not NoticeTemplate.objects.exists()
    good = client.post(url, {"subject": "Fjern {{ notice_code }}", "text": "tekst", "html": ""})
    assert good.status_code == 302
    assert NoticeTemplate.objects.get(language="da").subject == "Fjern {{ notice_code }}"
    client.post(f"/app/takedown/{slug}/templates/notice/da/reset/")
    assert not NoticeTemplate.objects.exists()
    assert client.get(f"/app/takedown/{slug}/templates/notice/xx/").status_code == 404


def test_an_analyst_closes_a_case_with_a_reason(
    case: TakedownCase, analyst: User, as_user: Any
) -> None:
    client = as_user(analyst)
    client.post(f"/app/takedown/cases/{case.code}/close/", {"reason": ""})
    case.refresh_from_db()
    assert case.state == CaseState.WAITING
    client.post(f"/app/takedown/cases/{case.code}/close/", {"reason": "handled by the platform"})
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.attention_reason == "handled by the platform"


def test_the_case_list_takes_a_fixed_number_of_queries(
    case: TakedownCase,
    analyst: User,
    hotline_a: Organisation,
    assess: AssessFn,
    as_user: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(analyst)
    path = f"/app/takedown/{hotline_a.slug}/?tab=waiting"
    with CaptureQueriesContext(connection) as one:
        client.get(path)
    for n in range(4):
        page = page_with_media(
            hotline_a, f"http://gallery.test/more{n}", images=1, first_seed=50 + n
        )
        record_hosting(page, country="DK")
        assess(page, analyst)
    assert ReportedUrl.objects.filter(takedown__state=CaseState.WAITING).count() == 5
    with CaptureQueriesContext(connection) as five:
        client.get(path)
    assert len(five) == len(one)


def test_an_analyst_asks_for_a_recheck_now_and_outsiders_cannot(
    case: TakedownCase,
    analyst: User,
    outsider: User,
    as_user: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from openhotline.celery import app
    from openhotline.takedown.tasks import recheck_case

    sent: list[tuple[str, list[int], str]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args, queue: sent.append((name, args, queue))
    )
    url = f"/app/takedown/cases/{case.code}/recheck/"
    assert as_user(outsider).post(url).status_code == 404
    assert as_user(analyst).get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert as_user(analyst).post(url).status_code == 302
    # The name sent is the task's own: the worker runs recheck_case.
    assert sent == [(recheck_case.name, [case.pk], "crawl")]
    assert AuditEvent.objects.filter(action="takedown.recheck_requested").count() == 1
    page = as_user(analyst).get(f"/app/takedown/cases/{case.code}/").content.decode()
    assert "Re-check now" in page
    case.state = CaseState.CLOSED
    case.save(update_fields=["state"])
    with django_capture_on_commit_callbacks(execute=True):
        as_user(analyst).post(url)
    assert len(sent) == 1
    assert (
        "Re-check now"
        not in as_user(analyst).get(f"/app/takedown/cases/{case.code}/").content.decode()
    )
