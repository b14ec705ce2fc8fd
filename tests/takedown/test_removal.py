"""Re-checks until removed: by hash, by 404/410/DNS, on 3 consecutive checks spread over time."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.blocking.actions.entries import (
    do_approve_entry,
    do_propose_entry,
    get_source,
)
from openhotline.blocking.models import SourceKind
from openhotline.crawler.results import CrawlError, CrawlResult, MediaItem, PageEvidence
from openhotline.evidence.actions import do_store_media
from openhotline.network.models import PoliceReferral
from openhotline.reports.models import ReportedUrl, UrlState
from openhotline.takedown.actions.removal import do_record_check, judge, observe
from openhotline.takedown.models import CaseState, CheckOutcome, Relocation, TakedownCase
from openhotline.takedown.tasks import recheck_case, recheck_due
from tests.network.conftest import AssessFn, generated_image, page_with_media
from tests.support.loopback import LoopbackServer, reply
from tests.takedown.conftest import site_url
from tests.takedown.test_notices import record_trace

ILLEGAL = generated_image(1)
OTHER = generated_image(2)


def result(status: int | None, media: list[bytes] = (), error: CrawlError | None = None) -> Any:  # type: ignore[assignment]
    run = CrawlResult(url="http://x.test/", started_at=datetime.now(tz=UTC))
    run.pages.append(
        PageEvidence(url="http://x.test/", kind="page", depth=0, parent=None, status=status)
    )
    if error is not None:
        run.errors.append(error)
    for data in media:
        run.media.append(
            MediaItem(
                url="http://x.test/i.png",
                kind="image",
                source="img",
                found_on="http://x.test/",
                status=200,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    return run


ILLEGAL_HASH = {hashlib.sha256(ILLEGAL).hexdigest()}


@pytest.mark.parametrize(
    ("crawl", "outcome"),
    [
        (result(200, [ILLEGAL, OTHER]), CheckOutcome.ONLINE),
        (result(200, [OTHER]), CheckOutcome.MEDIA_GONE),
        (result(200, []), CheckOutcome.MEDIA_GONE),
        (result(404), CheckOutcome.URL_GONE),
        (result(410), CheckOutcome.URL_GONE),
        (result(503), CheckOutcome.INCONCLUSIVE),
        (result(403), CheckOutcome.INCONCLUSIVE),
        (
            result(
                None, error=CrawlError("u", "page", "FetchConnectError", "cannot resolve x.test")
            ),
            CheckOutcome.URL_GONE,
        ),
        (
            result(None, error=CrawlError("u", "page", "FetchTimeout", "deadline")),
            CheckOutcome.INCONCLUSIVE,
        ),
    ],
)
def test_judging_one_check(crawl: CrawlResult, outcome: str) -> None:
    assert judge(crawl, ILLEGAL_HASH).outcome == outcome


def test_a_media_fetch_that_failed_is_no_proof_of_removal() -> None:
    crawl = result(200, [OTHER])
    crawl.media.append(
        MediaItem(url="u", kind="image", source="img", found_on="p", error="FetchTimeout: slow")
    )
    assert judge(crawl, ILLEGAL_HASH).outcome == CheckOutcome.INCONCLUSIVE


def test_a_text_page_counts_as_online_while_it_answers() -> None:
    assert judge(result(200, []), set()).outcome == CheckOutcome.ONLINE


def serve_gallery(website: LoopbackServer, *, with_image: bool) -> None:
    html = (
        '<title>g</title><img src="/i.png"><img src="/other.png">'
        if with_image
        else ('<title>g</title><img src="/other.png">')
    )
    website.routes["/g"] = lambda h: reply(h, html.encode())
    website.routes["/i.png"] = lambda h: reply(h, ILLEGAL, content_type="image/png")
    website.routes["/other.png"] = lambda h: reply(h, OTHER, content_type="image/png")


@pytest.fixture
def online(
    hotline_a: Organisation, analyst: User, assess: AssessFn, website: LoopbackServer
) -> ReportedUrl:
    """An illegal page served on loopback: one illegal picture among others."""
    serve_gallery(website, with_image=True)
    page = page_with_media(hotline_a, site_url(website, "/g"), images=0)
    do_store_media(
        ILLEGAL, mime="image/png", reported_url=page, source_url=site_url(website, "/i.png")
    )
    record_trace(page)
    return assess(page, analyst)


def test_removal_takes_three_gone_checks_spread_over_time(
    online: ReportedUrl, website: LoopbackServer, settings: Any
) -> None:
    settings.OPENHOTLINE_RECHECK_CONFIRM_MINUTES = 60
    case = TakedownCase.objects.get(reported_url=online)
    t0 = timezone.now()
    seen = observe(online)
    assert seen.outcome == CheckOutcome.ONLINE and seen.still_served == 1
    case = do_record_check(case, seen, now=t0)
    assert case.next_check_at == t0 + timedelta(hours=settings.OPENHOTLINE_RECHECK_HOURS)

    serve_gallery(website, with_image=False)  # the hoster removes the picture, not the page
    gone = observe(online)
    assert gone.outcome == CheckOutcome.MEDIA_GONE and gone.status == 200
    first_gone = t0 + timedelta(hours=6)
    case = do_record_check(case, gone, now=first_gone)
    case = do_record_check(case, gone, now=first_gone + timedelta(minutes=5))  # too soon
    assert case.gone_streak == 1 and case.state != CaseState.REMOVED
    case = do_record_check(case, gone, now=first_gone + timedelta(minutes=60))
    assert case.gone_streak == 2 and case.state != CaseState.REMOVED
    case = do_record_check(case, gone, now=first_gone + timedelta(minutes=125))
    assert case.state == CaseState.REMOVED and case.removed_at == first_gone
    online.refresh_from_db()
    assert online.state == UrlState.REMOVED and online.removed_at == first_gone
    referral = PoliceReferral.objects.get(reported_url=online)
    assert case.seconds_from_report == int((first_gone - online.created_at).total_seconds())
    assert case.seconds_from_referral == int((first_gone - referral.created_at).total_seconds())
    # Network's receiver of case_removed filled it before the case was saved and audited.
    case.refresh_from_db()
    assert case.seconds_from_referral == int((first_gone - referral.created_at).total_seconds())
    removed = AuditEvent.objects.get(action="takedown.removed")
    assert removed.detail["seconds_from_referral"] == case.seconds_from_referral
    assert case.seconds_from_notice is None  # no notice went out (contact not approved)
    assert case.checks.count() == 5


def test_online_again_starts_the_count_over(online: ReportedUrl, settings: Any) -> None:
    settings.OPENHOTLINE_RECHECK_CONFIRM_MINUTES = 0
    case = TakedownCase.objects.get(reported_url=online)
    gone = judge(result(404), ILLEGAL_HASH)
    still = judge(result(200, [ILLEGAL]), ILLEGAL_HASH)
    t = timezone.now()
    case = do_record_check(case, gone, now=t)
    case = do_record_check(case, gone, now=t + timedelta(minutes=1))
    case = do_record_check(case, still, now=t + timedelta(minutes=2))
    assert case.gone_streak == 0 and case.gone_since is None
    case = do_record_check(case, gone, now=t + timedelta(minutes=3))
    case = do_record_check(case, judge(result(503), ILLEGAL_HASH), now=t + timedelta(minutes=4))
    case = do_record_check(case, gone, now=t + timedelta(minutes=5))
    assert case.gone_streak == 2  # an error in between neither counts nor resets
    case = do_record_check(case, gone, now=t + timedelta(minutes=6))
    assert case.state == CaseState.REMOVED
    assert case.removed_at == t + timedelta(minutes=3)


def test_a_404_site_is_removed_and_its_blocklist_entry_proposed_for_delisting(
    online: ReportedUrl,
    website: LoopbackServer,
    hotline_a: Organisation,
    analyst: User,
    admin: User,
    settings: Any,
) -> None:
    settings.OPENHOTLINE_RECHECK_CONFIRM_MINUTES = 0
    source = get_source(hotline_a, "Our assessment", SourceKind.ASSESSMENT)
    entry = do_propose_entry(
        hotline_a, value=online.url, kind="url", source=source, actor=analyst, evidence=online
    )
    from openhotline.accounts.actions import do_create_user

    senior = do_create_user("sam", hotline_a, "senior_analyst", password="correct horse 30")
    do_approve_entry(entry, actor=senior)
    del website.routes["/g"]
    case = TakedownCase.objects.get(reported_url=online)
    for _ in range(3):
        assert recheck_case(case.pk) == CheckOutcome.URL_GONE
        TakedownCase.objects.filter(pk=case.pk).update(
            last_gone_at=timezone.now() - timedelta(hours=1)
        )
    case.refresh_from_db()
    assert case.state == CaseState.REMOVED
    entry.refresh_from_db()
    assert entry.delist_proposed_at is not None and "removed" in entry.delist_reason
    assert recheck_case(case.pk) == "nothing to do"


def test_the_same_material_at_a_new_url_is_noted_as_moved(
    online: ReportedUrl, hotline_a: Organisation, settings: Any
) -> None:
    settings.OPENHOTLINE_RECHECK_CONFIRM_MINUTES = 0
    case = TakedownCase.objects.get(reported_url=online)
    t = timezone.now()
    for minute in range(3):
        case = do_record_check(
            case, judge(result(404), ILLEGAL_HASH), now=t + timedelta(minutes=minute)
        )
    assert case.state == CaseState.REMOVED
    new = page_with_media(hotline_a, "http://elsewhere.test/g", images=0)
    do_store_media(
        ILLEGAL, mime="image/png", reported_url=new, source_url="http://elsewhere.test/i.png"
    )
    relocation = Relocation.objects.get(case=case)
    assert relocation.new_url == new and relocation.media_count == 1
    unrelated = page_with_media(hotline_a, "http://elsewhere.test/h", images=0)
    do_store_media(
        OTHER, mime="image/png", reported_url=unrelated, source_url="http://e.test/o.png"
    )
    assert Relocation.objects.filter(case=case).count() == 1


def test_the_beat_task_queues_only_what_is_due(online: ReportedUrl, monkeypatch: Any) -> None:
    queued: list[int] = []
    monkeypatch.setattr(recheck_case, "delay", lambda pk: queued.append(pk))
    case = TakedownCase.objects.get(reported_url=online)
    assert recheck_due() == 0
    TakedownCase.objects.filter(pk=case.pk).update(next_check_at=timezone.now())
    assert recheck_due() == 1 and queued == [case.pk]
    assert recheck_due() == 0  # its next check moved on while it waits in the queue


def test_a_recheck_traces_a_cdn_route_again_and_routes_it_when_the_origin_shows(
    hotline_a: Organisation, analyst: User, assess: AssessFn, website: LoopbackServer
) -> None:
    from openhotline.network.models import Route, RouteKind
    from tests.network.conftest import record_hosting

    serve_gallery(website, with_image=True)
    page = page_with_media(hotline_a, site_url(website, "/g"), images=0)
    do_store_media(ILLEGAL, mime="image/png", reported_url=page, source_url="http://x.test/i.png")
    record_hosting(page, cdn="Test CDN")  # first seen behind the CDN
    assess(page, analyst)
    assert Route.objects.get(reported_url=page).kind == RouteKind.CDN
    case = TakedownCase.objects.get(reported_url=page)
    assert case.contact is not None and case.contact.email == "abuse@cdn.test"

    assert recheck_case(case.pk) == CheckOutcome.ONLINE  # now served from the origin directly
    route = Route.objects.get(reported_url=page)
    assert (route.kind, route.country) == (RouteKind.NATIONAL, "DK")
    case.refresh_from_db()
    assert case.contact is not None and case.contact.email == "abuse@hoster.test"
    assert PoliceReferral.objects.filter(reported_url=page).exists()


@pytest.mark.django_db(transaction=True)
def test_a_check_locks_its_case_and_url_but_not_the_hotline(
    online: ReportedUrl, hotline_a: Organisation, settings: Any
) -> None:
    """The check's row lock left the hotline's row alone: it had locked it (a FOR UPDATE
    over a join), and on PostgreSQL a senior's confirmation, holding the audit chain,
    deadlocked against it (seen in benchmarks/network_sim.py)."""
    from django.db import connection

    from openhotline.takedown.actions.removal import Observation
    from openhotline.takedown.signals import case_removed
    from tests.support.services import database_url

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite locks the whole database)")
    import psycopg

    settings.OPENHOTLINE_REMOVAL_CHECKS = 1
    case = TakedownCase.objects.get(reported_url=online)
    probes: list[str] = []

    def probe(sender: Any, case: TakedownCase, **kwargs: Any) -> None:
        # Inside the check's transaction, from another connection: the hotline's row
        # is free, the case's is not.
        with psycopg.connect(database_url(), autocommit=True) as other:
            other.execute("SET lock_timeout = '3s'")
            for table, pk in (
                ("accounts_organisation", hotline_a.pk),
                ("takedown_takedowncase", case.pk),
            ):
                try:
                    other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608
                    probes.append(f"{table} free")
                except psycopg.errors.LockNotAvailable:
                    probes.append(f"{table} locked")

    case_removed.connect(probe, dispatch_uid="test-lock-probe")
    try:
        case = do_record_check(case, Observation(CheckOutcome.URL_GONE))
    finally:
        case_removed.disconnect(dispatch_uid="test-lock-probe")
    assert case.state == CaseState.REMOVED
    assert probes == ["accounts_organisation free", "takedown_takedowncase locked"]
