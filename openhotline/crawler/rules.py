"""Domain rules: which rule applies to a host (the most specific domain wins)."""

from __future__ import annotations

from openhotline.accounts.models import Organisation
from openhotline.crawler.models import DomainRule


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
