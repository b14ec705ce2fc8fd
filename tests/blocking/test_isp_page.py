"""The provider's page (feed URLs, last fetch, lag) and the hotline's view of a broken feed."""

from __future__ import annotations

import pytest
from django.test import Client

from openhotline.accounts.actions import do_create_api_key, do_create_organisation, do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.blocking.models import FeedFetch

pytestmark = pytest.mark.django_db


def fetch(key: str, fmt: str = "csv") -> int:
    return Client().get(f"/feed/v1/blocklist.{fmt}", HTTP_AUTHORIZATION=f"Bearer {key}").status_code


def test_the_isp_page_shows_feed_urls_the_last_fetch_and_the_lag(
    hotline_a: Organisation, isp_org: Organisation, isp_operator: User, published, as_user
) -> None:
    _, key = do_create_api_key(isp_org, "resolver", "read")
    published(urls=["http://bad.test/a"])
    client = as_user(isp_operator)
    page = client.get("/app/isp/").content.decode()
    assert "http://testserver/feed/v1/blocklist.rpz" in page
    assert "http://testserver/feed/v1/blocklist.csv" in page
    assert "never" in page
    assert fetch(key) == 200
    published(urls=["http://bad.test/b"])
    published(urls=["http://bad.test/c"])
    page = client.get("/app/isp/").content.decode()
    assert "2 versions behind" in page
    assert fetch(key) == 200
    assert "up to date" in client.get("/app/isp/").content.decode()


def test_an_isp_lands_on_its_page(isp_operator: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    response = Client().post(
        "/accounts/login/", {"username": "ivan", "password": "correct horse 5"}
    )
    assert response["Location"] == "/app/isp/"


def test_a_dns_feed_without_stop_page_addresses_is_an_error_for_the_hotline(
    hotline_a: Organisation,
    isp_org: Organisation,
    isp_operator: User,
    senior: User,
    published,
    settings,
    as_user,
) -> None:
    _, key = do_create_api_key(isp_org, "resolver", "read")
    published(urls=["http://bad.test/a"], domains=["bad.test"])
    settings.OPENHOTLINE_STOPPAGE_ADDRESSES = []
    assert fetch(key, "rpz") == 503
    assert FeedFetch.objects.get(status=503).format == "rpz"
    hotline_page = as_user(senior).get(f"/app/blocking/{hotline_a.slug}/").content.decode()
    assert 'id="feed-problems"' in hotline_page
    assert "OPENHOTLINE_STOPPAGE_ADDRESSES" in hotline_page
    versions = as_user(senior).get(f"/app/blocking/{hotline_a.slug}/versions/").content.decode()
    assert 'id="feed-problems"' in versions and "refused" in versions
    isp_page = as_user(isp_operator).get("/app/isp/").content.decode()
    assert "not served now" in isp_page and "none set yet" in isp_page
    settings.OPENHOTLINE_STOPPAGE_ADDRESSES = ["127.0.0.1"]
    assert (
        'id="feed-problems"'
        not in as_user(senior).get(f"/app/blocking/{hotline_a.slug}/").content.decode()
    )


def test_a_refused_fetch_does_not_count_as_the_version_held(
    hotline_a: Organisation, isp_org: Organisation, isp_operator: User, published, settings, as_user
) -> None:
    _, key = do_create_api_key(isp_org, "resolver", "read")
    published(urls=["http://bad.test/a"], domains=["bad.test"])
    settings.OPENHOTLINE_STOPPAGE_ADDRESSES = []
    assert fetch(key, "rpz") == 503
    page = as_user(isp_operator).get("/app/isp/").content.decode()
    assert "HTTP 503" in page and "none yet" in page


def test_the_isp_page_is_refused_to_staff_and_partners(
    hotline_a: Organisation, analyst: User, admin: User, as_user
) -> None:
    partner_org = do_create_organisation("Partner", "partner", "DK")
    partner = do_create_user("pia", partner_org, Role.PARTNER, password="correct horse 13")
    for user in (analyst, admin, partner):
        assert as_user(user).get("/app/isp/").status_code == 404


def test_another_countrys_isp_sees_only_its_own_hotline(
    hotline_a: Organisation, hotline_b: Organisation, published, as_user
) -> None:
    nl_isp = do_create_organisation("ISP NL", "isp", "NL")
    nl_operator = do_create_user("nils", nl_isp, Role.ISP_OPERATOR, password="correct horse 14")
    published(urls=["http://bad.test/a"])
    page = as_user(nl_operator).get("/app/isp/").content.decode()
    assert "Hotline B" in page and "Hotline A" not in page


def test_the_isp_page_explains_how_a_proxy_blocks_the_urls_dns_leaves_out(
    hotline_a: Organisation, isp_operator: User, published, as_user
) -> None:
    published(urls=["http://img.mixed.test/a.jpg"], hosts=["gallery.shared.test"])
    page = as_user(isp_operator).get("/app/isp/").content.decode()
    assert "http://testserver/feed/v1/blocklist.squid" in page
    squid = page.split('id="squid-setup"', 1)[1]
    assert 'acl openhotline url_regex "/etc/squid/openhotline.acl"' in squid
    assert "http_access deny openhotline" in squid
    assert "squid -k reconfigure" in squid
