"""Crawler pages: progress on the reported URL page, re-crawl, the screenshot, domain rules."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.crawler.models import CrawlRun, CrawlState, DomainRule, HostingRecord
from openhotline.evidence.actions import do_store_blob
from openhotline.reports.models import ReportedUrl
from tests.crawler.conftest import file_url, png

pytestmark = pytest.mark.django_db

AsUser = Callable[[User], Client]


@pytest.fixture
def crawled(hotline_a: Organisation) -> tuple[ReportedUrl, CrawlRun]:
    url = file_url(hotline_a, "http://gallery.test/a")
    shot = do_store_blob(png("red", size=(300, 600)), mime="image/png")
    run = CrawlRun.objects.create(
        reported_url=url,
        state=CrawlState.DONE,
        pages=2,
        media_found=7,
        media_fetched=6,
        media_stored=5,
        media_new=4,
        error_count=1,
        errors=[
            {
                "url": "http://gallery.test/x.png",
                "stage": "media",
                "error": "FetchTimeout",
                "message": "deadline",
            }
        ],
        screenshot=shot,
    )
    HostingRecord.objects.create(
        crawl=run,
        host="gallery.test",
        address="104.16.0.1",
        cdn="Cloudflare",
        notice_to="abuse@cloudflare.com",
        detail={"notes": ["gallery.test is behind Cloudflare"]},
    )
    return url, run


def test_the_reported_url_page_shows_the_crawl_and_its_hosting(
    analyst: User, crawled: tuple[ReportedUrl, CrawlRun], as_user: AsUser
) -> None:
    url, run = crawled
    html = as_user(analyst).get(f"/app/urls/{url.code}/").content.decode()
    assert 'id="crawl-progress"' in html and "data-poll" not in html
    for text in (
        "7 media found",
        "6 fetched",
        "5 stored",
        "4 new",
        "1 errors",
        "behind Cloudflare",
    ):
        assert text in " ".join(html.split()), text
    assert f"/app/crawler/crawls/{run.code}/screenshot.jpg" in html
    assert f"/app/crawler/urls/{url.code}/recrawl/" in html
    assert "FetchTimeout" in html


def test_a_running_crawl_is_polled(analyst: User, hotline_a: Organisation, as_user: AsUser) -> None:
    url = file_url(hotline_a, "http://gallery.test/b")
    CrawlRun.objects.create(reported_url=url, state=CrawlState.RUNNING, pages=1, media_found=3)
    client = as_user(analyst)
    html = client.get(f"/app/urls/{url.code}/").content.decode()
    assert f'data-poll="/app/crawler/urls/{url.code}/progress/"' in html
    assert "crawler/progress.js" in html
    part = client.get(f"/app/crawler/urls/{url.code}/progress/").content.decode()
    assert part.lstrip().startswith('<section class="card" id="crawl-progress" data-poll=')
    assert "3 media found" in " ".join(part.split()) and "<script" not in part


def test_a_recrawl_queues_a_new_run_once_committed(
    analyst: User,
    crawled: tuple[ReportedUrl, CrawlRun],
    as_user: AsUser,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[tuple[str, list[Any], dict[str, Any]]] = []
    from openhotline.celery import app

    monkeypatch.setattr(
        app, "send_task", lambda name, args, kwargs, queue: sent.append((name, args, kwargs))
    )
    url, old = crawled
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(analyst).post(f"/app/crawler/urls/{url.code}/recrawl/")
    assert response.status_code == 302 and response["Location"] == f"/app/urls/{url.code}/"
    new = CrawlRun.objects.exclude(pk=old.pk).get()
    assert new.state == CrawlState.QUEUED and new.requested_by == analyst
    assert sent == [
        ("openhotline.crawler.tasks.crawl_reported_url", [url.pk], {"crawl_code": new.code})
    ]
    assert AuditEvent.objects.filter(action="crawl.requested", actor=analyst).exists()


def test_the_screenshot_is_blurred_and_its_viewing_audited(
    analyst: User, crawled: tuple[ReportedUrl, CrawlRun], as_user: AsUser
) -> None:
    _, run = crawled
    response = as_user(analyst).get(f"/app/crawler/crawls/{run.code}/screenshot.jpg")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    assert Image.open(io.BytesIO(response.content)).mode == "L"  # greyscale, blurred
    assert AuditEvent.objects.filter(action="crawl.screenshot_viewed", actor=analyst).count() == 1


def test_the_outsider_sees_nothing_of_another_hotlines_crawls(
    outsider: User, crawled: tuple[ReportedUrl, CrawlRun], as_user: AsUser, hotline_a: Organisation
) -> None:
    url, run = crawled
    client = as_user(outsider)
    assert client.get(f"/app/crawler/urls/{url.code}/progress/").status_code == 404
    assert client.post(f"/app/crawler/urls/{url.code}/recrawl/").status_code == 404
    assert client.get(f"/app/crawler/crawls/{run.code}/screenshot.jpg").status_code == 404
    assert client.get(f"/app/crawler/{hotline_a.slug}/rules/").status_code == 404
    assert CrawlRun.objects.count() == 1
    assert not AuditEvent.objects.filter(action="crawl.screenshot_viewed").exists()


def test_domain_rules_are_for_the_hotlines_admins_only(
    analyst: User, admin: User, hotline_a: Organisation, as_user: AsUser
) -> None:
    rule = DomainRule.objects.create(hotline=hotline_a, domain="x.test", do_not_crawl=True)
    client = as_user(analyst)
    assert client.get(f"/app/crawler/{hotline_a.slug}/rules/").status_code == 404
    assert client.post(f"/app/crawler/{hotline_a.slug}/rules/{rule.pk}/delete/").status_code == 404
    assert as_user(admin).get(f"/app/crawler/{hotline_a.slug}/rules/").status_code == 200
    assert DomainRule.objects.filter(pk=rule.pk).exists()


def test_an_admin_adds_edits_and_deletes_a_rule(
    admin: User, hotline_a: Organisation, as_user: AsUser
) -> None:
    client = as_user(admin)
    base = f"/app/crawler/{hotline_a.slug}/rules/"
    response = client.post(
        base,
        {
            "domain": "https://WWW.Gallery.TEST/x?y",
            "force_hoster": "legal@host.test",
            "classify_as": "",
        },
    )
    assert response.status_code == 302
    rule = DomainRule.objects.get(hotline=hotline_a)
    assert (rule.domain, rule.force_hoster, rule.created_by) == (
        "www.gallery.test",
        "legal@host.test",
        admin,
    )
    assert "hoster: legal@host.test" in client.get(base).content.decode()
    response = client.post(
        f"{base}{rule.pk}/",
        {"domain": rule.domain, "proxy": "socks5h://127.0.0.1:9050", "classify_as": "baseline"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.force_hoster, rule.proxy, rule.classify_as) == (
        "",
        "socks5h://127.0.0.1:9050",
        "baseline",
    )
    assert client.post(f"{base}{rule.pk}/delete/").status_code == 302
    assert not DomainRule.objects.exists()
    actions = list(AuditEvent.objects.filter(actor=admin).values_list("action", flat=True))
    assert (
        actions.count("crawler.domain_rule_saved") == 2 and "crawler.domain_rule_deleted" in actions
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"domain": "x.test"}, "A rule must do something."),
        ({"domain": "localhost", "do_not_crawl": "on"}, "Give a full domain name"),
        ({"domain": "x.test", "proxy": "ftp://p.test"}, "expected a proxy URL"),
        ({"domain": "x.test", "notify_site_owner": "on"}, "Say how to reach the site owner."),
        ({"domain": "dup.test", "do_not_crawl": "on"}, "There is a rule for this domain already."),
    ],
)
def test_the_rule_form_refuses_what_makes_no_sense(
    admin: User, hotline_a: Organisation, as_user: AsUser, data: dict[str, str], message: str
) -> None:
    DomainRule.objects.create(hotline=hotline_a, domain="dup.test", do_not_crawl=True)
    response = as_user(admin).post(f"/app/crawler/{hotline_a.slug}/rules/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert DomainRule.objects.count() == 1
