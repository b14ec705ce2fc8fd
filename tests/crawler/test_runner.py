"""A crawl's hosting trace and rendering as the task records them (runner.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation
from openhotline.crawler.models import CrawledPage, CrawlState, DomainRule, HostingRecord
from openhotline.evidence.models import UrlMedia
from openhotline.evidence.store import get_store
from openhotline.reports.models import UrlState
from tests.conftest import missing_service
from tests.crawler.conftest import file_url, gallery, media, page, png, run, write_mmdb
from tests.support.loopback import LoopbackServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def danish_loopback(tmp_path: Path, settings: SettingsWrapper) -> None:
    """An operator's IP database that places 127.0.0.0/8 in Denmark, with an AS."""
    settings.OPENHOTLINE_GEOIP_MMDB = write_mmdb(
        tmp_path / "c.mmdb", "GeoLite2-Country", {"127.0.0.0/8": {"country": {"iso_code": "DK"}}}
    )
    settings.OPENHOTLINE_GEOIP_ASN_MMDB = write_mmdb(
        tmp_path / "a.mmdb",
        "GeoLite2-ASN",
        {
            "127.0.0.0/16": {
                "autonomous_system_number": 64500,
                "autonomous_system_organization": "Loopback Hosting",
            }
        },
    )


def test_the_trace_fills_the_hosting_country_network_and_contacts(
    hotline_a: Organisation, web: LoopbackServer, rdap: LoopbackServer, danish_loopback: None
) -> None:
    gallery(web)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert url.hosting_country == "DK"
    record = HostingRecord.objects.get(crawl=crawl)
    assert (record.address, record.country, record.asn, record.as_name) == (
        "127.0.0.1",
        "DK",
        64500,
        "Loopback Hosting",
    )
    assert (record.network, record.hoster, record.notice_to) == (
        "127.0.0.0/16",
        "Loopback Hosting ApS",
        "abuse@hoster.test",
    )
    assert record.detail["address_source"] == "connected"
    assert any(path.startswith("/rdap/ip/127.0.0.1") for path, _ in rdap.requests)


def test_behind_a_cdn_the_country_stays_unknown(
    hotline_a: Organisation,
    web: LoopbackServer,
    danish_loopback: None,
    tmp_path: Path,
    settings: SettingsWrapper,
) -> None:
    ranges = tmp_path / "cdn"
    ranges.mkdir()
    (ranges / "test.txt").write_text(
        "# provider: Test CDN\n# abuse: abuse@cdn.test\n# as-of: 2024-05-01\n127.0.0.0/24\n"
    )
    settings.OPENHOTLINE_CDN_RANGES_DIR = str(ranges)
    gallery(web)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert url.hosting_country == ""
    record = HostingRecord.objects.get(crawl=crawl)
    assert (record.cdn, record.notice_to, record.country_known) == (
        "Test CDN",
        "abuse@cdn.test",
        False,
    )
    assert url.timeline.filter(message__contains="behind Test CDN").exists()


def test_a_domain_rule_forces_the_hoster_and_asks_to_notify_the_owner(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    DomainRule.objects.create(
        hotline=hotline_a,
        domain="127.0.0.1",
        force_hoster="legal@host.test",
        notify_site_owner=True,
        site_owner_contact="owner@site.test",
    )
    gallery(web)
    crawl = run(file_url(hotline_a, web.url("/")))
    record = HostingRecord.objects.get(crawl=crawl)
    assert (record.hoster, record.notice_to) == ("legal@host.test", "legal@host.test")
    assert record.detail["site_owner"] == "owner@site.test"


def chromium(settings: SettingsWrapper) -> None:
    path = os.environ.get("OPENHOTLINE_CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        missing_service("Chromium (Debian package chromium)")
    settings.OPENHOTLINE_CHROMIUM_PATH = path
    settings.OPENHOTLINE_CRAWL_RENDER = "when-no-media"


SCRIPTED = """<title>Scripted</title><body><script>
for (const name of ["js1.png", "js2.png"]) {
  const img = new Image(); img.src = "/" + name; document.body.appendChild(img);
}
</script></body>"""


def test_a_page_without_static_media_is_rendered_and_its_script_images_kept(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    chromium(settings)
    web.routes["/"] = page(SCRIPTED)
    web.routes["/js1.png"], web.routes["/js2.png"] = media(png("red")), media(png("blue"))
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert crawl.state == CrawlState.DONE and crawl.rendered
    assert url.state == UrlState.AWAITING_ASSESSMENT
    links = UrlMedia.objects.filter(reported_url=url)
    assert sorted(link.source_url.rsplit("/", 1)[1] for link in links) == ["js1.png", "js2.png"]
    assert {link.found_in for link in links} == {"render"}
    assert crawl.screenshot is not None
    assert get_store().get(crawl.screenshot.name).startswith(b"\x89PNG")
    rendered = CrawledPage.objects.get(crawl=crawl, kind="rendered")
    assert rendered.title == "Scripted" and rendered.body is not None


def test_a_page_with_static_media_is_not_rendered_in_when_no_media_mode(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    chromium(settings)
    gallery(web)
    crawl = run(file_url(hotline_a, web.url("/")))
    assert not crawl.rendered and crawl.screenshot is None and crawl.media_stored == 3


def test_a_missing_browser_is_a_recorded_error(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_CRAWL_RENDER = "always"
    settings.OPENHOTLINE_CHROMIUM_PATH = "/nonexistent/chromium"
    gallery(web)
    crawl = run(file_url(hotline_a, web.url("/")))
    assert crawl.state == CrawlState.DONE and crawl.media_stored == 3
    assert [e["error"] for e in crawl.errors] == ["RenderUnavailable"]
