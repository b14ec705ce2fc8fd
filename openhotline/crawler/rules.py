"""Domain rules: which rule applies to a host (the most specific domain wins)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db.models import Q

from openhotline.accounts.models import Organisation
from openhotline.crawler.models import DomainRule
from openhotline.lib.samesite import site_of


def candidate_domains(host: str) -> list[str]:
    """The host and each parent domain, most specific first ("a.b.example" -> [.., "example"])."""
    labels = host.rstrip(".").lower().split(".")
    return [".".join(labels[i:]) for i in range(len(labels)) if labels[i]]


def rule_for(hotline: Organisation, host: str) -> DomainRule | None:
    """The hotline's rule for `host`: one for the host itself, else for its nearest parent.

    A rule for "example.com" covers "www.example.com" and every other subdomain,
    unless a subdomain has a rule of its own. Addresses match only an exact rule.
    """
    candidates = candidate_domains(host)
    if not candidates:
        return None
    rules = {r.domain: r for r in DomainRule.objects.filter(hotline=hotline, domain__in=candidates)}
    return next((rules[d] for d in candidates if d in rules), None)


class SiteRules:
    """The hotline's rules for every host of one site, loaded in one query.

    A crawl follows a gallery's links to other hosts of the reported page's
    site (`img.example.com` from `www.example.com`). Such a host may have a
    rule of its own that the reported host's rule does not show: "do not
    crawl", "do not follow", or a proxy (Tor) it must only be reached
    through. The crawl's threads check each followed page here, without the
    database.
    """

    def __init__(self, rules: list[DomainRule], crawl_rule: DomainRule | None) -> None:
        self.rules = {rule.domain: rule for rule in rules}
        self.crawl_rule = crawl_rule

    def rule_for(self, host: str) -> DomainRule | None:
        return next((self.rules[d] for d in candidate_domains(host) if d in self.rules), None)

    def may_follow(self, url: str) -> bool:
        """Whether the crawl may fetch the same-site page `url` (its host's own rule allows it)."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            return False
        rule = self.rule_for(host)
        if rule is None or (self.crawl_rule is not None and rule.pk == self.crawl_rule.pk):
            return True  # the crawl's own rule, or none: the crawl's settings hold
        crawl_proxy = self.crawl_rule.proxy if self.crawl_rule is not None else ""
        other_proxy = bool(rule.proxy) and rule.proxy != crawl_proxy
        return not (rule.do_not_crawl or rule.do_not_follow or other_proxy)


def site_rules(hotline: Organisation, url: str, crawl_rule: DomainRule | None) -> SiteRules:
    """The hotline's rules that may apply to a host of `url`'s site (see `SiteRules`)."""
    site = site_of(url)
    if not site:
        return SiteRules([], crawl_rule)
    query = Q(domain__in=candidate_domains(site)) | Q(domain__endswith=f".{site}")
    return SiteRules(list(DomainRule.objects.filter(query, hotline=hotline)), crawl_rule)
