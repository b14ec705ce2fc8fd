"""The whole chain on loopback: report, crawl, classify, notice by SMTP, blocklist proposal,
take-down, removal, and the statistics facts of it all."""

from __future__ import annotations

import email
import email.policy
from typing import Any

from django.utils import timezone

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import (
    do_classify_item,
    do_confirm_item,
    do_finish_url,
)
from openhotline.assessment.models import ItemStatus
from openhotline.blocking.models import BlocklistEntry, EntryKind, EntryState
from openhotline.blocking.tasks import propose_overdue_urls
from openhotline.crawler.models import HostingRecord
from openhotline.crawler.tasks import crawl_reported_url
from openhotline.evidence.models import MediaItem
from openhotline.network.models import LeaItem, PoliceReferral, Route, RouteKind
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource, UrlState
from openhotline.stats.models import ItemFact, ReportFact, UrlFact
from openhotline.stats.rebuild import rebuild_all
from openhotline.takedown.models import AbuseContact, CaseState, TakedownCase
from openhotline.takedown.tasks import recheck_case, send_notices
from tests.network.conftest import generated_image
from tests.support.loopback import LoopbackServer, reply
from tests.takedown.conftest import Internet, Mailbox, site_url

ILLEGAL = generated_image(11)
HARMLESS = generated_image(12)


def test_report_to_removal_on_loopback(
    hotline_a: Organisation,
    analyst: User,
    admin: User,
    police: User,
    interpol: User,
    internet: Internet,
    website: LoopbackServer,
    smtp: Mailbox,
    as_user: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.OPENHOTLINE_RECHECK_CONFIRM_MINUTES = 0
    senior = do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 20")
    html = b'<title>Gallery</title><img src="/a.png"><img src="/b.png">'
    website.routes["/gallery"] = lambda h: reply(h, html)
    website.routes["/a.png"] = lambda h: reply(h, ILLEGAL, content_type="image/png")
    website.routes["/b.png"] = lambda h: reply(h, HARMLESS, content_type="image/png")

    # 1. A public report, crawled by the crawler's own task.
    report = do_file_report(
        hotline_a, source=ReportSource.PUBLIC, urls=[site_url(website, "/gallery")]
    )
    url = report.urls.get()
    assert crawl_reported_url.apply(args=(url.pk,), throw=True).get() == "done"
    url.refresh_from_db()
    assert url.state == UrlState.AWAITING_ASSESSMENT and url.hosting_country == "DK"
    hosting = HostingRecord.objects.get(crawl__reported_url=url)
    assert hosting.hoster == "Loopback Hosting ApS" and hosting.notice_to == "abuse@hoster.test"
    items = {m.sha256: m for m in MediaItem.objects.filter(url_links__reported_url=url)}
    assert len(items) == 2
    illegal = next(m for m in items.values() if m.size == len(ILLEGAL))
    harmless = next(m for m in items.values() if m.size == len(HARMLESS))

    # 2. Classified by an analyst, confirmed by a senior (four eyes), finished.
    with django_capture_on_commit_callbacks(execute=True):
        status = do_classify_item(hotline_a, illegal, "baseline", analyst=analyst, reported_url=url)
        do_classify_item(hotline_a, harmless, "not_illegal", analyst=analyst, reported_url=url)
        do_confirm_item(ItemStatus.objects.get(pk=status.pk), senior, agree=True)
        do_finish_url(url, analyst, site_type="image_host")
    url.refresh_from_db()
    assert url.state == UrlState.ILLEGAL
    assert Route.objects.get(reported_url=url).kind == RouteKind.NATIONAL
    referral = PoliceReferral.objects.get(reported_url=url)
    assert referral.code in as_user(police).get("/lea/referrals/").content.decode()
    assert LeaItem.objects.get(media_item=illegal).in_force
    assert not LeaItem.objects.filter(media_item=harmless).exists()

    # 3. The hoster's contact, approved by the admin; the notice goes out by SMTP.
    contact = AbuseContact.objects.get(email="abuse@hoster.test")
    assert send_notices()["waiting_for_approval"] == 1 and smtp.messages == []
    response = as_user(admin).post(f"/app/takedown/contacts/{contact.code}/approve/")
    assert response.status_code == 302
    assert send_notices()["sent"] == 1
    [(_, recipients, raw)] = smtp.messages
    assert recipients == ["abuse@hoster.test"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and url.url in body.get_content()
    url.refresh_from_db()
    assert url.state == UrlState.NOTICE_SENT

    # 4. Still online past the grace time: proposed for blocking (once), a senior approves.
    settings.OPENHOTLINE_BLOCKLIST_PROPOSE_AFTER_HOURS = "*=0"
    assert propose_overdue_urls() == 1
    assert propose_overdue_urls() == 0
    entry = BlocklistEntry.objects.get(hotline=hotline_a)
    assert entry.state == EntryState.PROPOSED and entry.kind == EntryKind.URL
    assert entry.value == url.normalized_url and entry.evidence == url
    assert entry.code in as_user(senior).get("/app/blocking/hotline-a/").content.decode()
    response = as_user(senior).post(f"/app/blocking/entries/{entry.code}/approve/")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.state == EntryState.APPROVED and entry.approved_by == senior

    # 5. Re-checks: still online, then the hoster takes the page down.
    case = TakedownCase.objects.get(reported_url=url)
    assert recheck_case(case.pk) == "online"
    del website.routes["/gallery"]
    for _ in range(3):
        assert recheck_case(case.pk) == "url_gone"
    case.refresh_from_db()
    url.refresh_from_db()
    assert case.state == CaseState.REMOVED and url.state == UrlState.REMOVED
    assert case.removed_at is not None and url.removed_at == case.removed_at
    assert case.removed_at <= timezone.now()
    assert case.seconds_from_report is not None and case.seconds_from_report >= 0
    assert case.seconds_from_notice is not None and case.seconds_from_notice >= 0
    assert case.seconds_from_referral is not None and case.seconds_from_referral >= 0
    assert case.seconds_from_notice <= case.seconds_from_referral <= case.seconds_from_report
    page = as_user(analyst).get(f"/app/takedown/cases/{case.code}/").content.decode()
    assert "Removed" in page

    # 6. The statistics facts followed every step, as a full rebuild computes them.
    fact = UrlFact.objects.get(reported_url=url)
    assert (fact.hotline, fact.country, fact.illegal) == (hotline_a, "DK", True)
    assert fact.verdict == url.assessment.verdict
    # Facts count whole seconds between whole-second instants (as the database
    # computes them); the case truncates the difference instead: 1 s apart at most.
    url.refresh_from_db()
    assert url.removed_at is not None
    assert fact.removal_s == int(url.removed_at.timestamp()) - int(url.created_at.timestamp())
    assert abs(fact.removal_s - case.seconds_from_report) <= 1
    assert fact.removal_after_notice_s is not None
    assert abs(fact.removal_after_notice_s - case.seconds_from_notice) <= 1
    assert fact.contact_pk == contact.pk
    assert fact.assessed_s is not None and fact.notice_s is not None
    assert fact.referral_s is not None
    assert fact.assessed_s <= fact.notice_s <= fact.removal_s
    # The system's share after the verdict: no police-first hold here, so all of it.
    assert fact.notice_hold_s is None and fact.referral_system_s is not None
    assert fact.notice_system_s is not None and 0 <= fact.notice_system_s <= fact.notice_s
    assert ReportFact.objects.get(report=report).source == ReportSource.PUBLIC
    verdicts = dict(ItemFact.objects.filter(in_force=True).values_list("media_item", "verdict"))
    assert verdicts == {illegal.pk: "baseline", harmless.pk: "not_illegal"}
    live = {
        model: list(model.objects.order_by("pk").values())
        for model in (UrlFact, ReportFact, ItemFact)
    }
    rebuild_all()
    assert live == {
        model: list(model.objects.order_by("pk").values())
        for model in (UrlFact, ReportFact, ItemFact)
    }
