"""``openhotline demo`` shows the whole chain, on loopback, with its own worker.

The demo runs as a user starts it (its own web server, embedded worker and
beat, its DNS server, websites and mail catcher), on a fresh data directory.
The test files a report through the public form over HTTP, assesses as the
demo's analysts do, and then follows each link: the police referral, the
INTERPOL referral for the site hosted abroad, the notice caught by the demo's
mail server (and shown on the mailbox page), the hoster's removal seen by a
re-check asked for on the case page, a blocklist entry in the ISP's DNS feed
pointing at the stop page, and the statistics.
"""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.classification import (
    do_classify_item,
    do_confirm_item,
    do_finish_url,
)
from openhotline.assessment.models import ItemStatus, ReviewState
from openhotline.blocking.actions.entries import (
    ASSESSMENT_SOURCE,
    do_approve_entry,
    do_propose_entry,
    get_source,
)
from openhotline.blocking.actions.publishing import do_publish
from openhotline.blocking.models import EntryKind, SourceKind
from openhotline.crawler.models import HostingRecord
from openhotline.evidence.models import MediaItem
from openhotline.network.models import PoliceReferral, ReferralChannel, Route, RouteKind
from openhotline.reports.models import ReportedUrl, UrlState
from openhotline.stats.models import UrlFact
from openhotline.takedown.models import CaseState, Notice, NoticeState, TakedownCase
from tests.support.services import free_port, kill_group, openhotline_env, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")
DANISH_HOST, FOREIGN_HOST = "gallery.dk-hosting.test", "pics.faraway-hosting.test"


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 240.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"the demo did not get there: {what}"
        time.sleep(0.5)


class Browser:
    """A cookie-keeping HTTP client for the demo's web server (forms with their CSRF token)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, form_page: str, fields: dict[str, str]) -> tuple[int, str]:
        _, page = self.get(form_page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, f"no CSRF token on {form_page}"
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token[1], **fields}).encode()
        request = urllib.request.Request(  # noqa: S310 (the demo's loopback server)
            self.base + path, data=body, headers={"Referer": self.base + form_page}
        )
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def log_in(self, username: str, password: str) -> None:
        status, page = self.post(
            "/accounts/login/", "/accounts/login/", {"username": username, "password": password}
        )
        assert status == 200 and "Log out" in page, page[:500]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, Any]]:
    web, site, dns, smtp = free_port(), free_port(), free_port(), free_port()
    data = tmp_path / "data"
    env = openhotline_env(
        data,
        OPENHOTLINE_DNS_SERVERS=f"127.0.0.1:{dns}",
        OPENHOTLINE_SMTP_PORT=str(smtp),
        OPENHOTLINE_CRAWL_RENDER="off",
    )
    log_path = tmp_path / "demo.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openhotline", "demo", "--addr", f"127.0.0.1:{web}"]
        + ["--site-port", str(site)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_for_port(web, timeout=180), log_path.read_text()[-3000:]
        output = log_path.read_text()
        logins = dict(re.findall(r"^  (\S+) +(\S+) +\S+ of ", output, re.M))
        key = re.search(r"ISP feed key: (\S+)", output)
        assert key and "analyst" in logins, output[-3000:]
        yield {
            "base": f"http://127.0.0.1:{web}",
            "site": site,
            "data": data,
            "logins": logins,
            "key": key[1],
            "log": log_path,
        }
    finally:
        kill_group(proc)
        log.close()
        # Shown by pytest when the test fails: what the demo said.
        print(log_path.read_text()[-6000:])


def assess_illegal(url: ReportedUrl, analyst: User, senior: User) -> None:
    """Classify every item of the page illegal (a senior confirms: four eyes) and finish it."""
    for item in MediaItem.objects.filter(url_links__reported_url=url):
        status = do_classify_item(url.hotline, item, "baseline", analyst=analyst, reported_url=url)
        if ItemStatus.objects.get(pk=status.pk).review_state != ReviewState.FINAL:
            do_confirm_item(ItemStatus.objects.get(pk=status.pk), senior, agree=True)
    do_finish_url(url, analyst, site_type="image_host")


# A whole demo on a machine shared with other test runs: crawls, four notices
# runs and a re-check can take minutes.
@pytest.mark.timeout(900)
def test_a_report_goes_from_the_form_to_the_statistics(
    demo: dict[str, Any], settings: SettingsWrapper, as_user: Any
) -> None:
    base, site = demo["base"], demo["site"]
    danish_url = f"http://{DANISH_HOST}:{site}/gallery/2"
    foreign_url = f"http://{FOREIGN_HOST}:{site}/gallery/0"
    hotline = Organisation.objects.get(name="Demo Hotline Denmark")

    # 1. A member of the public reports a page through the form.
    public = Browser(base)
    status, page = public.post(
        f"/report/{hotline.slug}/", f"/report/{hotline.slug}/", {"urls": danish_url}
    )
    assert status == 200, page[:2000]

    # 2. The demo's worker crawls it and traces it to Denmark; the page hosted abroad
    #    (filed by the demo) is traced to the other country. Only loopback was fetched.
    def crawled(address: str) -> ReportedUrl | None:
        url = ReportedUrl.objects.filter(hotline=hotline, url=address).first()
        return url if url is not None and url.state == UrlState.AWAITING_ASSESSMENT else None

    danish = eventually("the reported page crawled", lambda: crawled(danish_url))
    foreign = eventually("the foreign page crawled", lambda: crawled(foreign_url))
    assert HostingRecord.objects.get(crawl__reported_url=danish).country == "DK"
    assert HostingRecord.objects.get(crawl__reported_url=foreign).country == "US"
    assert danish.hosting_country == "DK" and foreign.hosting_country == "US"
    assert MediaItem.objects.filter(url_links__reported_url=danish).count() >= 6

    # 3. The analyst finds both illegal, the senior confirms: a police referral in
    #    Denmark, INTERPOL for the country without a member hotline.
    analyst, senior = User.objects.get(username="analyst"), User.objects.get(username="senior")
    assess_illegal(danish, analyst, senior)
    assess_illegal(foreign, analyst, senior)
    assert Route.objects.get(reported_url=danish).kind == RouteKind.NATIONAL
    assert Route.objects.get(reported_url=foreign).kind == RouteKind.NO_MEMBER
    assert PoliceReferral.objects.get(reported_url=danish).channel == ReferralChannel.NATIONAL
    assert PoliceReferral.objects.get(reported_url=foreign).channel == ReferralChannel.INTERPOL
    police = Browser(base)
    police.log_in("police", demo["logins"]["police"])
    referral = PoliceReferral.objects.get(reported_url=danish)
    assert referral.code in police.get("/lea/referrals/")[1]

    # 4. The demo's beat sends the notice to the demo hoster's approved contact, by
    #    SMTP to the demo's mail catcher; the mailbox page shows it.
    case = TakedownCase.objects.get(reported_url=danish)
    notice = eventually(
        "the notice sent",
        lambda: Notice.objects.filter(lines__case=case, state=NoticeState.SENT).first(),
    )
    assert notice.recipient == "abuse@dk-hosting.test"
    mailbox = demo["data"] / "demo-mailbox"
    assert any(notice.code.encode() in p.read_bytes() for p in mailbox.glob("*.eml"))
    staff = Browser(base)
    staff.log_in("analyst", demo["logins"]["analyst"])
    status, page = staff.get("/app/demo/mailbox/")
    assert status == 200 and notice.code in page and danish_url in page

    # 5. The demo hoster took the page down on reading the notice; a re-check asked for
    #    on the case page sees it gone, and the case is closed as removed.
    request = urllib.request.Request(
        f"http://127.0.0.1:{site}/gallery/2", headers={"Host": f"{DANISH_HOST}:{site}"}
    )
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 (loopback)
    assert gone.value.code == 404
    case_page = f"/app/takedown/cases/{case.code}/"
    status, page = staff.post(f"{case_page}recheck/", case_page, {})
    assert status == 200 and "Re-check queued" in page
    case = eventually(
        "the removal confirmed",
        lambda: TakedownCase.objects.filter(pk=case.pk, state=CaseState.REMOVED).first(),
    )
    assert case.seconds_from_referral is not None

    # 6. The page abroad stays online: a whole host dedicated to it goes on the
    #    blocklist (four eyes), is published, and the ISP's DNS feed points it at
    #    the stop page's address.
    source = get_source(hotline, ASSESSMENT_SOURCE, SourceKind.ASSESSMENT)
    entry = do_propose_entry(
        hotline,
        value=FOREIGN_HOST,
        kind=EntryKind.HOST,
        source=source,
        reason="dedicated to abuse material",
        evidence=foreign,
        dedicated=True,
        actor=analyst,
    )
    do_approve_entry(entry, actor=senior)
    do_publish(hotline, actor=User.objects.get(username="admin"))
    isp = Browser(base)
    status, zone = isp.get(
        "/feed/v1/blocklist.rpz", headers={"Authorization": f"Bearer {demo['key']}"}
    )
    assert status == 200, zone
    assert re.search(rf"^{re.escape(FOREIGN_HOST)}\s+A\s+127\.0\.0\.1$", zone, re.M), zone
    for fmt in ("hosts", "unbound", "dnsmasq"):
        status, body = isp.get(
            f"/feed/v1/blocklist.{fmt}", headers={"Authorization": f"Bearer {demo['key']}"}
        )
        assert status == 200 and FOREIGN_HOST in body, (fmt, body)

    # 7. The statistics: the removal, counted from the report, the notice and the referral.
    fact = UrlFact.objects.get(reported_url=danish)
    assert fact.country == "DK" and fact.removal_s is not None and fact.referral_s is not None
    status, page = staff.get("/app/stats/")
    assert status == 200
