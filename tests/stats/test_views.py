"""The dashboards: who sees which figures, the filters, the charts and the CSV exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation, User
from openhotline.blocking.models import FeedFetch, Publication
from openhotline.stats.dashboards import DASHBOARDS
from openhotline.stats.scope import Scope
from openhotline.takedown.models import Notice
from tests.stats.conftest import HOUR, T0, make_contact, make_url

pytestmark = pytest.mark.django_db

AsUser = Callable[[User], Client]


def rows_of(response: object) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("text/csv")  # type: ignore[index]
    return list(csv.DictReader(io.StringIO(response.content.decode())))  # type: ignore[attr-defined]


@pytest.fixture
def network(hotline_a: Organisation, hotline_b: Organisation) -> None:
    """Hotline A: three partner reports, one public; B: five public reports."""
    for _ in range(3):
        make_url(hotline_a, country="NL", verdict="baseline", source="partner", removed=30 * HOUR)
    make_url(hotline_a, country="RU", verdict="not_illegal")
    for _ in range(5):
        make_url(hotline_b, country="RU", verdict="national", removed=200 * HOUR)


def test_an_analyst_sees_only_the_own_hotlines_figures(
    network: None, analyst: User, as_user: AsUser
) -> None:
    rows = rows_of(as_user(analyst).get("/app/stats/overview/reports_by_source.csv"))
    by_source = {r["Source"]: int(r["Reports"]) for r in rows}
    assert by_source["Partner API"] == 3 and by_source["Public form"] == 1
    assert by_source["All reports"] == 4


def test_the_outsider_sees_none_of_hotline_as_figures(
    network: None, outsider: User, as_user: AsUser
) -> None:
    client = as_user(outsider)
    rows = rows_of(client.get("/app/stats/overview/reports_by_source.csv"))
    assert {r["Source"]: int(r["Reports"]) for r in rows}["All reports"] == 5
    hosting = rows_of(client.get("/app/stats/hosting/hosting_countries.csv"))
    assert [(r["Code"], r["Illegal URLs"]) for r in hosting] == [("RU", "5")]
    for path in ("/app/stats/", "/app/stats/times/", "/app/stats/overview/reported_urls.csv"):
        assert client.get(path, {"hotline": "hotline-a"}).status_code == 404
    page = client.get("/app/stats/").content.decode()
    assert "Hotline A" not in page


def test_people_outside_hotlines_are_refused(
    network: None, police: User, isp_operator: User, as_user: AsUser
) -> None:
    for user in (police, isp_operator):
        assert as_user(user).get("/app/stats/").status_code == 404
        assert as_user(user).get("/app/stats/times/times.csv").status_code == 404
    assert Client().get("/app/stats/").status_code == 302  # to the login page


def test_an_auditor_sees_the_whole_network_and_each_hotline(
    network: None, auditor: User, hotline_b: Organisation, as_user: AsUser
) -> None:
    client = as_user(auditor)
    rows = rows_of(client.get("/app/stats/overview/reports_by_source.csv"))
    assert {r["Source"]: int(r["Reports"]) for r in rows}["All reports"] == 9
    only_b = rows_of(
        client.get("/app/stats/overview/reports_by_source.csv", {"hotline": "hotline-b"})
    )
    assert {r["Source"]: int(r["Reports"]) for r in only_b}["All reports"] == 5
    page = client.get("/app/stats/").content.decode()
    assert "All hotlines (network)" in page and "Hotline B" in page


def test_every_dashboard_renders_its_tables_and_charts_without_outside_requests(
    network: None, auditor: User, as_user: AsUser
) -> None:
    client = as_user(auditor)
    for slug, board in DASHBOARDS.items():
        response = client.get(f"/app/stats/{slug}/")
        page = response.content.decode()
        assert response.status_code == 200
        assert f"Statistics: {board.title}" in page
        assert "<svg" in page or slug == "blocking"
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), slug
        for table in board.tables(Scope()):
            assert f'href="/app/stats/{slug}/{table.slug}.csv' in page


def test_share_illegal_and_the_member_hotline_share(
    network: None, analyst: User, as_user: AsUser
) -> None:
    client = as_user(analyst)
    urls = {
        r["Reported URLs"]: r for r in rows_of(client.get("/app/stats/overview/reported_urls.csv"))
    }
    illegal = urls["Assessed illegal (baseline or national)"]
    assert (illegal["URLs"], illegal["Share of assessed (fraction)"]) == ("3", "0.7500")
    summary = {
        r["Hosting"]: r for r in rows_of(client.get("/app/stats/hosting/hosting_summary.csv"))
    }
    # NL has a member hotline (hotline B is Dutch); nothing illegal was hosted in RU for A.
    assert summary["Hosted where a member hotline works"]["Illegal URLs"] == "3"
    assert summary["Hosted where no member hotline exists"]["Illegal URLs"] == "0"


def test_the_hosting_chart_greys_countries_without_a_member_hotline(
    network: None, outsider: User, as_user: AsUser
) -> None:
    page = as_user(outsider).get("/app/stats/hosting/").content.decode()
    assert "Russia" in page and 'fill="#9aa5b1"' in page
    summary = {
        r["Hosting"]: r
        for r in rows_of(as_user(outsider).get("/app/stats/hosting/hosting_summary.csv"))
    }
    assert (
        summary["Hosted where no member hotline exists"]["Share of known countries (fraction)"]
        == "1.0000"
    )


def test_times_csv_has_the_hand_computed_figures(
    hotline_a: Organisation, analyst: User, as_user: AsUser
) -> None:
    for hours in (10, 40, 100):
        make_url(hotline_a, verdict="baseline", removed=hours * HOUR)
    rows = {
        r["From the report to"]: r
        for r in rows_of(as_user(analyst).get("/app/stats/times/times.csv"))
    }
    removal = rows["Report to removal"]
    assert removal["URLs"] == "3" and removal["Median (seconds)"] == str(40 * 3600)
    # p90 at 0.9·2 = 1.8 → 40 + 0.8·60 = 88 h.
    assert removal["90th percentile (seconds)"] == str(88 * 3600)
    assert removal["Within 1 day (fraction)"] == "0.3333"
    assert removal["Within 3 days (fraction)"] == "0.6667"
    assert removal["Within 7 days (fraction)"] == "1.0000"


def test_the_removal_chart_draws_the_shares_of_the_table_beside_it(
    hotline_a: Organisation, analyst: User, as_user: AsUser
) -> None:
    """A share is drawn out of 100 %, not out of the largest share.

    The bars were scaled to the longest one, so "within 7 days: 75 %" filled
    the chart as if every removed URL had been removed within a week.
    """
    for hours in (10, 40, 100, 300):
        make_url(hotline_a, verdict="baseline", removed=hours * HOUR)
    page = as_user(analyst).get("/app/stats/times/").content.decode()
    section = page[page.index('id="times"') :]
    row = re.search(r"<td>Report to removal</td>(.*?)</tr>", section)
    assert row is not None
    table = [float(v) for v in re.findall(r'<td class="num">([\d.]+) %</td>', row[1])]
    assert table == [25.0, 50.0, 75.0]
    chart = section[section.index("<svg") : section.index("</svg>")]
    widths = [float(w) for w in re.findall(r'<rect x="170" y="\d+" width="([\d.]+)"', chart)]
    full = 640 - 170 - 70  # the bar area of a chart 640 wide
    assert [round(100 * w / full, 1) for w in widths] == table
    assert [float(v) for v in re.findall(r">([\d.]+) %</text>", chart)] == table


def test_the_period_and_country_filters_apply(
    hotline_a: Organisation, analyst: User, as_user: AsUser
) -> None:
    make_url(hotline_a, at=T0, country="NL", verdict="baseline")
    make_url(hotline_a, at=T0 + timedelta(days=60), country="NL", verdict="baseline")
    make_url(hotline_a, at=T0, country="DE", verdict="baseline")
    client = as_user(analyst)

    def illegal(**query: str) -> str:
        rows = rows_of(client.get("/app/stats/overview/reported_urls.csv", query))
        return {r["Reported URLs"]: r["URLs"] for r in rows}["Reported URLs"]

    assert illegal() == "3"
    assert illegal(start="2025-04-07", end="2025-04-30") == "2"
    assert illegal(country="NL") == "2"
    assert illegal(start="2025-04-01", end="2025-04-07", country="DE") == "1"
    assert (
        client.get("/app/stats/", {"start": "2025-05-01", "end": "2025-04-01"}).status_code == 400
    )
    assert client.get("/app/stats/", {"country": "XX"}).status_code == 400


def test_notices_and_slowest_hosters(
    hotline_a: Organisation, analyst: User, as_user: AsUser, settings: object
) -> None:
    settings.OPENHOTLINE_STATS_HOSTER_MIN_CASES = 2  # type: ignore[attr-defined]
    slow, quick = (
        make_contact(hotline_a, "=cmd|' /C calc'!A0"),
        make_contact(hotline_a, "Quick Host", "DE"),
    )
    for after in (48, 96):
        make_url(
            hotline_a, verdict="baseline", contact=slow, noticed=HOUR, removed=HOUR + after * HOUR
        )
    for after in (1, 3):
        make_url(
            hotline_a, verdict="baseline", contact=quick, noticed=HOUR, removed=HOUR + after * HOUR
        )
    for contact, kind in ((slow, "notice"), (slow, "escalation"), (quick, "notice")):
        Notice.objects.create(
            hotline=hotline_a,
            contact=contact,
            kind=kind,
            recipient=contact.email,
            language="en",
            subject="s",
            text="t",
            state="sent",
            sent_at=T0,
        )
    client = as_user(analyst)
    slowest = rows_of(client.get("/app/stats/hosters/slowest_hosters.csv"))
    assert [(r["Hoster"], r["Median (seconds)"]) for r in slowest] == [
        ("'=cmd|' /C calc'!A0", str(72 * 3600)),  # a formula is defused in the CSV
        ("Quick Host", str(2 * 3600)),
    ]
    notices = rows_of(client.get("/app/stats/hosters/notices_per_hoster.csv", {"country": "DE"}))
    assert [(r["Hoster"], r["Notices"], r["Escalations"]) for r in notices] == [
        ("Quick Host", "1", "0")
    ]
    page = client.get("/app/stats/hosters/").content.decode()
    assert "=cmd|&#x27; /C calc&#x27;!A0" in page  # escaped in the page and in the SVG


def test_blocklist_size_and_feed_freshness(
    hotline_a: Organisation, isp_org: Organisation, analyst: User, as_user: AsUser
) -> None:
    for serial, count in ((1, 10), (2, 25)):
        Publication.objects.create(
            hotline=hotline_a,
            serial=serial,
            entry_count=count,
            added_count=count,
            created_at=T0 + serial * HOUR,
        )
    FeedFetch.objects.create(isp=isp_org, hotline=hotline_a, format="rpz", serial=1, status=200)
    client = as_user(analyst)
    versions = rows_of(client.get("/app/stats/blocking/blocklist_size.csv"))
    assert [(r["Version"], r["Entries"]) for r in versions] == [("2", "25"), ("1", "10")]
    fresh = rows_of(client.get("/app/stats/blocking/feed_freshness.csv"))
    assert [
        (r["Provider"], r["Version held"], r["Versions behind"], r["State"]) for r in fresh
    ] == [("ISP DK", "1", "1", "1 version behind")]
    assert "<svg" in client.get("/app/stats/blocking/").content.decode()


def test_an_unknown_table_or_dashboard_is_not_found(analyst: User, as_user: AsUser) -> None:
    client = as_user(analyst)
    assert client.get("/app/stats/nothing/").status_code == 404
    assert client.get("/app/stats/times/nothing.csv").status_code == 404


def test_the_number_of_queries_does_not_grow_with_the_data(
    hotline_a: Organisation, analyst: User, as_user: AsUser
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from openhotline.accounts.actions import do_create_organisation

    client = as_user(analyst)

    def count() -> list[int]:
        counts = []
        for slug in DASHBOARDS:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"/app/stats/{slug}/").status_code == 200
            counts.append(len(queries))
        return counts

    def add(n: int) -> None:
        for i in range(n):
            contact = make_contact(hotline_a, f"Host {n}-{i}")
            make_url(hotline_a, verdict="baseline", contact=contact, noticed=HOUR, removed=9 * HOUR)
            Notice.objects.create(
                hotline=hotline_a,
                contact=contact,
                kind="notice",
                recipient="a@b.test",
                language="en",
                subject="s",
                text="t",
                state="sent",
                sent_at=T0,
            )
            isp = do_create_organisation(f"ISP {n}-{i}", "isp", "DK")
            FeedFetch.objects.create(isp=isp, hotline=hotline_a, format="rpz", serial=1, status=200)
            Publication.objects.create(hotline=hotline_a, serial=100 * n + i, entry_count=i)

    add(2)
    few = count()
    add(6)
    assert count() == few
