"""Which domain rule applies to a host: its own, else its nearest parent's."""

from __future__ import annotations

import pytest

from openhotline.accounts.models import Organisation
from openhotline.crawler.models import DomainRule
from openhotline.crawler.policy import crawl_policy
from openhotline.crawler.rules import candidate_domains, rule_for

pytestmark = pytest.mark.django_db


def test_candidates_run_from_the_host_to_its_top_domain() -> None:
    assert candidate_domains("A.b.Example.com.") == [
        "a.b.example.com",
        "b.example.com",
        "example.com",
        "com",
    ]


def test_the_most_specific_rule_of_the_hotline_wins(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    broad = DomainRule.objects.create(hotline=hotline_a, domain="host.test", classify_as="baseline")
    narrow = DomainRule.objects.create(hotline=hotline_a, domain="img.host.test", do_not_crawl=True)
    DomainRule.objects.create(hotline=hotline_b, domain="other.test", do_not_crawl=True)
    assert rule_for(hotline_a, "www.host.test") == broad
    assert rule_for(hotline_a, "a.img.host.test") == narrow
    assert rule_for(hotline_a, "nothost.test") is None
    assert rule_for(hotline_a, "other.test") is None  # another hotline's rule
    assert rule_for(hotline_a, "www.host.test").classify_as == "baseline"  # type: ignore[union-attr]


def test_a_proxy_rule_sends_the_crawl_through_its_proxy(hotline_a: Organisation) -> None:
    rule = DomainRule.objects.create(
        hotline=hotline_a, domain="hidden.onion", proxy="socks5h://127.0.0.1:9050"
    )
    policy = crawl_policy(rule).fetch
    assert policy.proxy == "socks5h://127.0.0.1:9050" and policy.proxy_resolves_names
    assert crawl_policy().fetch.proxy is None
