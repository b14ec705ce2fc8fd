"""Followed gallery pages as a crawl records them, and domain rules that change how far it goes."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation
from openhotline.crawler.forms import DomainRuleForm
from openhotline.crawler.models import CrawledPage, DomainRule
from openhotline.crawler.policy import crawl_policy
from openhotline.evidence.models import UrlMedia
from tests.crawler.conftest import file_url, media, page, png, run
from tests.support.dnsserver import DnsServer, Records
from tests.support.loopback import LoopbackServer

pytestmark = pytest.mark.django_db


def three_pages(web: LoopbackServer) -> None:
    """A gallery of pages `/`, `/?page=2`, ... one image each, each linking the next."""

    def gallery(handler: Any) -> None:
        number = int(handler.path.partition("?page=")[2] or "1")
        link = f'<a href="/?page={number + 1}" rel="next">next</a>'
        page(f'<img src="/{number}.png">{link}')(handler)

    web.routes["/"] = gallery
    for number, color in (("1", "red"), ("2", "green"), ("3", "blue"), ("4", "white")):
        web.routes[f"/{number}.png"] = media(png(color))


def fetched(web: LoopbackServer) -> list[str]:
    return [path for path, _ in web.requests]


@pytest.fixture
def dns_records() -> Records:
    """Hosts of one site, gallery.test, all served by the `web` server."""
    names = ("www", "img", "cdn", "shop", "pics")
    return {f"{name}.gallery.test": [("A", "127.0.0.1")] for name in names}


def test_each_stored_item_records_the_page_it_was_found_on(
    hotline_a: Organisation, web: LoopbackServer
) -> None:
    three_pages(web)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert crawl.pages == 2
    links = UrlMedia.objects.filter(reported_url=url)
    assert sorted((link.source_url.rsplit("/", 1)[1], link.page_url) for link in links) == [
        ("1.png", ""),  # the reported page itself
        ("2.png", web.url("/?page=2")),
    ]
    kinds = list(CrawledPage.objects.filter(crawl=crawl).values_list("kind", "url"))
    assert kinds == [("page", url.url), ("linked", web.url("/?page=2"))]
    assert "/?page=3" not in fetched(web)  # the default depth is 1


def test_a_domain_rule_turns_following_off(hotline_a: Organisation, web: LoopbackServer) -> None:
    three_pages(web)
    DomainRule.objects.create(hotline=hotline_a, domain="127.0.0.1", do_not_follow=True)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert crawl.pages == 1
    assert "/?page=2" not in fetched(web)
    assert UrlMedia.objects.filter(reported_url=url).count() == 1


def test_a_domain_rule_follows_deeper_within_its_own_budget(
    hotline_a: Organisation, web: LoopbackServer, settings: SettingsWrapper
) -> None:
    three_pages(web)
    settings.OPENHOTLINE_CRAWL_FOLLOW_PAGES = 20
    DomainRule.objects.create(hotline=hotline_a, domain="127.0.0.1", follow_depth=5, follow_pages=2)
    url = file_url(hotline_a, web.url("/"))
    crawl = run(url)
    assert "/?page=3" in fetched(web) and "/?page=4" not in fetched(web)
    assert crawl.pages == 3
    pages = set(UrlMedia.objects.filter(reported_url=url).values_list("page_url", flat=True))
    assert pages == {"", web.url("/?page=2"), web.url("/?page=3")}
    assert any("page budget 2" in error["message"] for error in crawl.errors)


def test_the_policy_takes_the_settings_and_a_rule_changes_them(
    hotline_a: Organisation, settings: SettingsWrapper
) -> None:
    settings.OPENHOTLINE_CRAWL_FOLLOW_DEPTH = 1
    settings.OPENHOTLINE_CRAWL_FOLLOW_PAGES = 20
    default = crawl_policy()
    assert (default.follow_depth, default.max_followed_pages) == (1, 20)
    off = crawl_policy(DomainRule(hotline=hotline_a, domain="a.test", do_not_follow=True))
    assert off.follow_depth == 0
    more = crawl_policy(DomainRule(hotline=hotline_a, domain="a.test", follow_pages=100))
    assert (more.follow_depth, more.max_followed_pages) == (1, 100)
    assert more.max_documents > default.max_documents


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"follow_depth": "9"}, "At most 5."),
        ({"follow_pages": "501"}, "At most 500."),
        ({"do_not_follow": "on", "follow_depth": "2"}, "Either stop following links"),
        ({}, "A rule must do something."),
    ],
)
def test_the_rule_form_bounds_link_following(
    hotline_a: Organisation, values: dict[str, str], error: str
) -> None:
    form = DomainRuleForm(data={"domain": "gallery.test", **values}, hotline=hotline_a)
    assert not form.is_valid()
    assert error in str(form.errors)


def test_a_rule_may_only_change_link_following(hotline_a: Organisation) -> None:
    form = DomainRuleForm(data={"domain": "gallery.test", "follow_pages": "60"}, hotline=hotline_a)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["follow_pages"] == 60


def test_a_page_on_a_host_whose_own_rule_forbids_it_is_not_followed(
    hotline_a: Organisation, web: LoopbackServer, dns: DnsServer
) -> None:
    port = web.port
    web.routes["/"] = page(
        '<img src="/1.png">'
        + "".join(
            f' <a href="http://{host}.gallery.test:{port}/{n}">{n}</a>'
            for n, host in ((2, "img"), (3, "cdn"), (4, "shop"), (5, "pics"), (6, "www"))
        )
    )
    for n, color in enumerate(("red", "green", "blue", "white", "black", "yellow"), start=1):
        web.routes[f"/{n}"] = page(f'<img src="/{n}.png">')
        web.routes[f"/{n}.png"] = media(png(color))
    # The reported host's rule (through its parent domain), and rules of the site's other hosts.
    rule = {"hotline": hotline_a}
    DomainRule.objects.create(**rule, domain="gallery.test", force_hoster="Hoster A/S")
    DomainRule.objects.create(**rule, domain="img.gallery.test", do_not_crawl=True)
    DomainRule.objects.create(**rule, domain="cdn.gallery.test", proxy="socks5h://127.0.0.1:9")
    DomainRule.objects.create(**rule, domain="shop.gallery.test", do_not_follow=True)
    DomainRule.objects.create(**rule, domain="pics.gallery.test", force_registrar="Registrar")
    url = file_url(hotline_a, f"http://www.gallery.test:{port}/")
    crawl = run(url)
    hosts = {headers["host"].split(":")[0] for _, headers in web.requests}
    assert hosts == {"www.gallery.test", "pics.gallery.test"}
    pages = set(UrlMedia.objects.filter(reported_url=url).values_list("page_url", flat=True))
    assert pages == {"", f"http://pics.gallery.test:{port}/5", f"http://www.gallery.test:{port}/6"}
    refused = [error for error in crawl.errors if error["stage"] == "rule"]
    assert [error["message"] for error in refused] == [
        "3 same-site pages not followed: their host's domain rule forbids it"
    ]
