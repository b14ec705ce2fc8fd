"""A partner's page: its reports with their public states, never a verdict; its keys."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from openhotline.accounts.actions import do_create_organisation, do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.reports.actions import do_file_report, do_set_url_state
from openhotline.reports.models import ReportSource, UrlState

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_user(partner_org: Organisation) -> User:
    return do_create_user("pia", partner_org, Role.PARTNER, password="correct horse 13")


def test_the_partner_sees_its_reports_with_public_states_only(
    hotline_a: Organisation, partner_org: Organisation, partner_user: User, as_user
) -> None:
    waiting = do_file_report(
        hotline_a,
        source=ReportSource.PARTNER,
        urls=["http://a.test/1"],
        submitted_by_org=partner_org,
        external_ref="case-1",
    )
    assessed = do_file_report(
        hotline_a,
        source=ReportSource.PARTNER,
        urls=["http://a.test/2"],
        submitted_by_org=partner_org,
    )
    do_set_url_state(assessed.urls.get(), UrlState.ILLEGAL)
    someone_else = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://a.test/3"])
    page = as_user(partner_user).get("/app/partner/").content.decode()
    assert waiting.code in page and assessed.code in page and "case-1" in page
    assert someone_else.code not in page
    row = page.split(f'id="report-{assessed.code}"')[1].split("</tr>")[0]
    assert "closed" in row and "illegal" not in row.lower()
    assert "received" in page.split(f'id="report-{waiting.code}"')[1].split("</tr>")[0]


def test_the_partner_page_reads_a_bounded_number_of_queries(
    hotline_a: Organisation, partner_org: Organisation, partner_user: User, as_user
) -> None:
    client = as_user(partner_user)
    for n in range(3):
        do_file_report(
            hotline_a,
            source=ReportSource.PARTNER,
            urls=[f"http://a.test/{n}"],
            submitted_by_org=partner_org,
        )
    client.get("/app/partner/")
    with CaptureQueriesContext(connection) as few:
        client.get("/app/partner/")
    for n in range(20):
        do_file_report(
            hotline_a,
            source=ReportSource.PARTNER,
            urls=[f"http://b.test/{n}"],
            submitted_by_org=partner_org,
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/app/partner/")
    assert len(many) == len(few)


def test_a_partner_lands_on_its_page(partner_user: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    response = Client().post(
        "/accounts/login/", {"username": "pia", "password": "correct horse 13"}
    )
    assert response["Location"] == "/app/partner/"


def test_another_partner_sees_none_of_these_reports(
    hotline_a: Organisation, partner_org: Organisation, as_user
) -> None:
    report = do_file_report(
        hotline_a,
        source=ReportSource.PARTNER,
        urls=["http://a.test/1"],
        submitted_by_org=partner_org,
    )
    other_org = do_create_organisation("Other platform", "partner", "DK")
    other = do_create_user("otto", other_org, Role.PARTNER, password="correct horse 15")
    assert report.code not in as_user(other).get("/app/partner/").content.decode()


def test_staff_and_isps_have_no_partner_page(analyst: User, isp_operator: User, as_user) -> None:
    for user in (analyst, isp_operator):
        assert as_user(user).get("/app/partner/").status_code == 404
