from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from openhotline.accounts.models import Organisation, User
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import Report, ReportSource
from tests.support.pages import same_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def report_a(hotline_a: Organisation) -> Report:
    return do_file_report(
        hotline_a, source=ReportSource.PUBLIC, urls=["http://gallery.test/a", "http://x.test/b"]
    )


def test_analyst_sees_own_hotline_queue(
    analyst: User, report_a: Report, hotline_b: Organisation, as_user: Callable[[User], Client]
) -> None:
    do_file_report(hotline_b, source=ReportSource.PUBLIC, urls=["http://other.test/secret"])
    page = as_user(analyst).get("/app/").content.decode()
    assert "http://gallery.test/a" in page
    assert "other.test" not in page


def test_outsider_cannot_see_another_hotlines_report(
    outsider: User, report_a: Report, as_user: Callable[[User], Client]
) -> None:
    client = as_user(outsider)
    assert client.get(f"/app/reports/{report_a.code}/").status_code == 404
    url_code = report_a.urls.get(url="http://gallery.test/a").code
    assert client.get(f"/app/urls/{url_code}/").status_code == 404
    assert "gallery.test" not in client.get("/app/").content.decode()


def test_not_found_and_not_yours_look_the_same(
    outsider: User, report_a: Report, as_user: Callable[[User], Client]
) -> None:
    client = as_user(outsider)
    theirs = client.get(f"/app/reports/{report_a.code}/")
    missing = client.get("/app/reports/NOPE0-NOPE0/")
    assert theirs.status_code == missing.status_code == 404
    assert same_page(theirs.content, missing.content)


@pytest.mark.parametrize("persona", ["police", "isp_operator"])
def test_non_hotline_roles_see_no_reports(
    persona: str,
    request: pytest.FixtureRequest,
    report_a: Report,
    as_user: Callable[[User], Client],
) -> None:
    client = as_user(request.getfixturevalue(persona))
    assert client.get(f"/app/reports/{report_a.code}/").status_code == 404
    assert "gallery.test" not in client.get("/app/").content.decode()


def test_anonymous_visitor_is_sent_to_login(report_a: Report) -> None:
    response = Client().get(f"/app/reports/{report_a.code}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_report_detail_shows_urls_and_timeline(
    admin: User, report_a: Report, as_user: Callable[[User], Client]
) -> None:
    page = as_user(admin).get(f"/app/reports/{report_a.code}/").content.decode()
    assert "http://x.test/b" in page and "Report received" in page


def test_queue_query_count_does_not_grow_with_rows(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://a.test/1"])
    with CaptureQueriesContext(connection) as few:
        client.get("/app/")
    do_file_report(
        hotline_a, source=ReportSource.PUBLIC, urls=[f"http://a.test/{i}" for i in range(2, 40)]
    )
    with CaptureQueriesContext(connection) as many:
        page = client.get("/app/").content.decode()
    assert "http://a.test/39" in page
    assert len(many.captured_queries) == len(few.captured_queries)
