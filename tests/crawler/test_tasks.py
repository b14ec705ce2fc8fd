"""The crawl task end to end, against sites served on 127.0.0.1.

Whatever a site does, the task records an error or a partial result and
moves the reported URL on: never a crashed worker, never a lost report.
"""

from __future__ import annotations

import gzip
import time
import zlib
from http.server import BaseHTTPRequestHandler

import pytest
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation
from openhotline.audit.models import AuditEvent
from openhotline.crawler import hostslots
from openhotline.crawler.models import CrawledPage, CrawlRun, CrawlState, DomainRule, HostingRecord
from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.evidence.store import get_store
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource, UrlState
from tests.crawler.conftest import GALLERY, file_url, gallery, media, page, png, run, run_task
from tests.support.dnsserver import DnsServer, Records
from tests.support.loopback import LoopbackServer, reply

pytestmark = pytest.mark.django_db


def test_a_crawl_stores_media_and_evidence_and_moves_the_url_to_assessment(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    gallery(web)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert url.state == UrlState.AWAITING_ASSESSMENT
    assert crawl.state == CrawlState.DONE and crawl.attempts == 1
    assert (crawl.pages, crawl.media_found, crawl.media_fetched) == (1, 3, 3)
    assert (crawl.media_stored, crawl.media_new, crawl.error_count) == (3, 3, 0)
    links = UrlMedia.objects.filter(reported_url=url)
    assert sorted(link.source_url.rsplit("/", 1)[1] for link in links) == [
        "a.png",
        "b.png",
        "c.png",
    ]
    assert {link.found_in for link in links} == {"img", "lazy", "style"}
    evidence = CrawledPage.objects.get(crawl=crawl)
    assert (evidence.kind, evidence.status, evidence.title, evidence.address) == (
        "page",
        200,
        "Gallery",
        "127.0.0.1",
    )
    assert evidence.body is not None and get_store().get(evidence.body.name) == GALLERY.encode()
    assert ["content-type", "text/html; charset=utf-8"] in [
        [k.lower(), v] for k, v in evidence.headers
    ]
    kinds = list(url.timeline.values_list("kind", flat=True))
    assert kinds.count("url.state") == 2 and "crawl.hosting" in kinds
    assert AuditEvent.objects.filter(action="crawl.finished").count() == 1
    assert HostingRecord.objects.get(crawl=crawl).address == "127.0.0.1"


def test_a_second_run_does_nothing_and_a_recrawl_makes_a_new_run(
    hotline_a: Organisation, web: LoopbackServer, analyst: object
) -> None:
    from openhotline.crawler.actions import do_request_recrawl

    gallery(web)
    url = file_url(hotline_a, web.url("/"))
    first = run(url)
    requests = len(web.requests)
    assert run_task(url) == ("nothing to do", [])
    assert len(web.requests) == requests and CrawlRun.objects.count() == 1
    again = do_request_recrawl(analyst, url)  # type: ignore[arg-type]
    run_task(url, crawl_code=again.code)
    again.refresh_from_db()
    assert again.state == CrawlState.DONE and again.pk != first.pk
    assert (again.media_stored, again.media_new) == (3, 0)  # known content is not stored twice
    assert MediaItem.objects.count() == 3
    assert run_task(url, crawl_code=again.code) == ("nothing to do", [])


def test_a_passing_failure_is_tried_again_with_its_attempts_in_the_timeline(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_CRAWL_RETRY_SECONDS = 7
    gallery(web)
    answers = iter([503])
    ok = page(GALLERY)
    web.routes["/"] = lambda h: reply(h, b"busy", status=s) if (s := next(answers, 0)) else ok(h)
    url = file_url(hotline_a, web.url("/"))
    assert run_task(url) == ("done", [7.0])
    crawl = CrawlRun.objects.get(reported_url=url)
    url.refresh_from_db()
    assert crawl.state == CrawlState.DONE and crawl.attempts == 2 and crawl.media_stored == 3
    assert url.state == UrlState.AWAITING_ASSESSMENT
    retry = url.timeline.get(kind="crawl.retry")
    assert "attempt 1 failed (the page answered HTTP 503)" in retry.message


def test_a_page_that_stays_away_fails_after_the_last_attempt(hotline_a: Organisation) -> None:
    from tests.support.services import free_port

    url = file_url(hotline_a, f"http://127.0.0.1:{free_port()}/")
    crawl = run(url)
    assert crawl.state == CrawlState.FAILED and crawl.attempts == 2
    assert url.state == UrlState.CRAWL_FAILED
    assert "Connection refused" in crawl.fatal_error
    assert url.timeline.filter(kind="crawl.retry").count() == 1
    assert url.reports.count() == 1  # the report is still there


@pytest.mark.parametrize("how", ["directly", "by redirect"])
def test_a_refused_address_fails_at_once_and_is_never_contacted(
    hotline_a: Organisation, web: LoopbackServer, inner: LoopbackServer, how: str
) -> None:
    target = inner.url("/")
    web.routes["/r"] = lambda h: reply(h, status=302, headers={"Location": target})
    url = file_url(hotline_a, target if how == "directly" else web.url("/r"))
    crawl = run(url)
    assert crawl.state == CrawlState.FAILED and crawl.attempts == 1
    assert url.state == UrlState.CRAWL_FAILED
    assert crawl.fatal_error.startswith("FetchRefused") and "loopback" in crawl.fatal_error
    assert inner.requests == []


@pytest.fixture
def dns_records(web: LoopbackServer) -> Records:
    return {"site.test": [("A", "127.0.0.1")], "evil.test": [("A", "127.0.0.2")]}


def test_a_dns_answer_with_a_refused_address_is_refused(
    hotline_a: Organisation, web: LoopbackServer, inner: LoopbackServer, dns: DnsServer
) -> None:
    web.routes["/"] = page(f'<img src="http://evil.test:{inner.port}/x.png"><img src="/ok.png">')
    web.routes["/ok.png"] = media(png())
    evil = file_url(hotline_a, f"http://evil.test:{inner.port}/")
    crawl = run(evil)
    assert crawl.state == CrawlState.FAILED
    assert "evil.test resolves to 127.0.0.2, which is a loopback address" in crawl.fatal_error
    good = file_url(hotline_a, f"http://site.test:{web.port}/")
    crawl = run(good)
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 1
    assert any("evil.test resolves to 127.0.0.2" in e["message"] for e in crawl.errors)
    assert inner.requests == []
    assert ("evil.test", "A") in dns.queries


def test_a_do_not_crawl_rule_sends_the_url_to_analysts_unfetched(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    DomainRule.objects.create(hotline=hotline_a, domain="127.0.0.1", do_not_crawl=True)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert crawl.state == CrawlState.SKIPPED and web.requests == []
    assert url.state == UrlState.AWAITING_ASSESSMENT
    assert url.timeline.filter(message__contains="domain rule for 127.0.0.1").exists()


def test_a_busy_host_waits_and_gives_up_after_the_configured_waits(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    gallery(web)
    settings.OPENHOTLINE_CRAWL_PER_HOST = 1
    held = hostslots.acquire("127.0.0.1", 1, 600)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert crawl.host_waits == 2 and crawl.state == CrawlState.FAILED
    assert "stayed busy" in crawl.fatal_error and web.requests == []
    assert url.state == UrlState.CRAWL_FAILED
    assert held is not None
    hostslots.release(held)
    from openhotline.accounts.models import User
    from openhotline.crawler.actions import do_request_recrawl

    again = do_request_recrawl(User.objects.create(username="x"), url)
    run_task(url, crawl_code=again.code)
    again.refresh_from_db()
    assert again.state == CrawlState.DONE and again.host_waits == 0
    assert not hostslots.HostSlot.objects.exists()  # released after the crawl


# --- Bad input it must survive ---------------------------------------------------


def slow_drip(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "image/png")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(1000):
        h.wfile.write(b"\x89")
        h.wfile.flush()
        time.sleep(0.02)


def truncated(h: BaseHTTPRequestHandler) -> None:
    data = png("purple")
    reply(h, data[:30], length=len(data), content_type="image/png")
    h.close_connection = True


def image_bomb() -> bytes:
    big = bytearray(png(size=(1, 1))[:33])  # signature + IHDR of a 1x1 PNG
    big[16:24] = (100_000).to_bytes(4, "big") * 2  # claims 100000 x 100000 pixels
    return bytes(big) + zlib.compress(b"\0" * 2_000_000)


def test_malformed_html_gives_the_media_it_has(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    web.routes["/"] = page(
        "<html><body><<img src='/a.png' <div><img src=\"/b.png\"</p></tr>\x00<img"
    )
    web.routes["/a.png"], web.routes["/b.png"] = media(png("red")), media(png("blue"))
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert crawl.state == CrawlState.DONE and crawl.media_stored >= 1
    assert url.state == UrlState.AWAITING_ASSESSMENT


def test_wrong_or_missing_content_types_do_not_matter(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    web.routes["/"] = page('<img src="/a"><img src="/b.png">', content_type="image/png")
    web.routes["/a"] = media(png("red"), content_type="text/html")
    web.routes["/b.png"] = media(png("blue"), content_type=None)
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 2
    assert set(MediaItem.objects.values_list("mime", flat=True)) == {"image/png"}


def test_a_redirect_loop_fails_the_page_and_is_recorded(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    web.routes["/"] = lambda h: reply(h, status=302, headers={"Location": "/again"})
    web.routes["/again"] = lambda h: reply(h, status=302, headers={"Location": "/"})
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert crawl.state == CrawlState.FAILED and crawl.attempts == 1
    assert crawl.fatal_error.startswith("FetchTooManyRedirects")
    assert url.state == UrlState.CRAWL_FAILED


def test_a_slow_drip_server_is_cut_off_and_the_rest_kept(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_CRAWL_DEADLINE = 1.0
    web.routes["/"] = page('<img src="/slow.png"><img src="/ok.png">')
    web.routes["/slow.png"], web.routes["/ok.png"] = slow_drip, media(png())
    started = time.monotonic()
    crawl = run(file_url(hotline_a, web.url("/")))
    assert time.monotonic() - started < 5
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 1  # drip bytes are no image
    assert [e["error"] for e in crawl.errors] == ["FetchTimeout"]


def test_a_truncated_download_is_an_error_with_its_sizes_and_not_stored(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    web.routes["/"], web.routes["/cut.png"] = page('<img src="/cut.png">'), truncated
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 0
    assert not MediaItem.objects.exists()
    [error] = crawl.errors
    assert error["error"] == "FetchProtocolError" and error["stage"] == "media"
    assert "received 30 bytes" in error["message"]
    assert f"declared length {len(png('purple'))} bytes" in error["message"]


def test_a_gzip_bomb_is_cut_at_the_decoded_limit(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    bomb = gzip.compress(b'<img src="/a.png">' + b" " * (64 * 1024 * 1024))
    web.routes["/"] = lambda h: reply(h, bomb, headers={"Content-Encoding": "gzip"})
    web.routes["/a.png"] = media(png())
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 1
    evidence = CrawledPage.objects.get(crawl=crawl)
    assert evidence.truncated and evidence.size <= 4 * 1024 * 1024
    assert [e["error"] for e in crawl.errors] == ["FetchTooLarge"]


def test_an_image_bomb_is_stored_and_then_refused_by_hashing(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    from openhotline.evidence.tasks import hash_media_item

    web.routes["/"], web.routes["/bomb.png"] = page('<img src="/bomb.png">'), media(image_bomb())
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 1
    item = MediaItem.objects.get()
    hash_media_item(item.pk)
    item.refresh_from_db()
    assert item.hash_state == "undecodable"


def test_a_non_utf8_page_is_decoded(hotline_a: Organisation, web: LoopbackServer) -> None:
    html = '<meta charset="windows-1251"><title>Галерея</title><img src="/фото.png">'
    web.routes["/"] = page(html.encode("cp1251"), content_type="text/html")
    web.routes["/%D1%84%D0%BE%D1%82%D0%BE.png"] = media(png())
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 1
    evidence = CrawledPage.objects.get(crawl=crawl)
    assert (evidence.title, evidence.encoding) == ("Галерея", "cp1251")


def test_a_ten_thousand_image_page_is_capped_and_says_so(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    web.routes["/"] = page("".join(f'<img src="/i/{n}.png">' for n in range(10_000)))
    web.routes["/i/*"] = lambda h: reply(
        h, png(size=(2, 2 + int(h.path[3:-4]))), content_type="image/png"
    )
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.state == CrawlState.DONE
    assert (crawl.media_found, crawl.media_fetched, crawl.media_stored) == (10_000, 50, 50)
    assert any(e["stage"] == "limit" and "10000 media found" in e["message"] for e in crawl.errors)


def test_a_crash_while_recording_fails_the_crawl_not_the_report(
    hotline_a: Organisation, web: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gallery(web)

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a page the code did not expect")

    monkeypatch.setattr("openhotline.crawler.runner.do_record_pages", broken)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert crawl.state == CrawlState.FAILED
    assert crawl.fatal_error == "internal error: ValueError: a page the code did not expect"
    assert url.state == UrlState.CRAWL_FAILED and url.reports.count() == 1
    assert UrlMedia.objects.filter(reported_url=url).count() == 3  # what was stored stays


def test_a_storage_failure_loses_one_item_not_the_crawl(
    hotline_a: Organisation, web: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openhotline.evidence import actions

    gallery(web)
    real = actions.do_store_media

    def flaky(data: bytes, **kwargs: object) -> object:
        if data == png("green"):
            raise OSError("disk full")
        return real(data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("openhotline.crawler.runner.do_store_media", flaky)
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 2
    assert [(e["stage"], e["message"]) for e in crawl.errors] == [("store", "disk full")]


def test_an_onion_url_without_a_proxy_is_refused_clearly_and_never_looked_up(
    hotline_a: Organisation, dns: DnsServer
) -> None:
    onion = "http://" + "a" * 56 + ".onion/"
    url = file_url(hotline_a, onion)
    crawl = run(url)
    assert crawl.state == CrawlState.FAILED and url.state == UrlState.CRAWL_FAILED
    assert "is a Tor .onion address and no proxy is configured" in crawl.fatal_error
    assert dns.queries == []  # a lookup would tell the resolver what is being investigated
    assert "onion service" in " ".join(HostingRecord.objects.get(crawl=crawl).detail["notes"])


def test_a_new_url_whose_crawl_was_never_queued_is_queued_later(
    hotline_a: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from openhotline.crawler import tasks

    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://lost.test/"])
    lost = report.urls.get()
    long_ago = timezone.now() - timedelta(hours=1)
    ReportedUrl.objects.filter(pk=lost.pk).update(created_at=long_ago, updated_at=long_ago)
    fresh = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://new.test/"])
    queued: list[int] = []
    monkeypatch.setattr(tasks.crawl_reported_url, "delay", queued.append)
    assert tasks.queue_forgotten_crawls() == 1
    assert queued == [lost.pk]
    assert fresh.urls.get().pk not in queued
