"""The rules a publication must pass, so that a bad list can never reach providers.

In 2012 a bad list blocked about 8,000 legitimate sites, Google and Facebook among
them, for hours. Each rule below refuses a publication and names the entry and
the rule, so the analyst knows what to fix:

- ``protected-domain``: an entry's name is, lies under, or (domain entries)
  covers a protected name (shipped in ``data/protected_domains.txt`` plus the
  hotline's own additions);
- ``many-not-illegal-urls``: a domain-level entry over a domain, or a
  whole-host entry on a host, where many distinct URLs have been assessed not
  illegal: the name is not dedicated to abuse;
- ``malformed-name``: a name DNS cannot block, or must not (a public suffix);
- ``change-share``: the publication changes more than the configured share of
  the list; a senior analyst may override this one rule, explicitly.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from django.conf import settings
from django.db.models import Count, Q

from openhotline.accounts.models import Organisation
from openhotline.blocking.models import WHOLE_NAME_KINDS, EntryKind, ProtectedDomain
from openhotline.blocking.names import dns_name_problem, parent_names
from openhotline.reports.models import ReportedUrl, UrlState

RULE_PROTECTED = "protected-domain"
RULE_NOT_ILLEGAL = "many-not-illegal-urls"
RULE_MALFORMED = "malformed-name"
RULE_CHANGE_SHARE = "change-share"


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    entry_code: str = ""
    value: str = ""

    def __str__(self) -> str:
        where = f"entry {self.entry_code} ({self.value}): " if self.entry_code else ""
        return f"[{self.rule}] {where}{self.message}"


@functools.cache
def shipped_protected_domains() -> frozenset[str]:
    text = resources.files("openhotline.blocking").joinpath("data/protected_domains.txt")
    names = set()
    for line in text.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip().lower().rstrip(".")
        if name:
            names.add(name)
    return frozenset(names)


class ProtectedNames:
    """Answers "does this entry touch a protected name?" in a few dictionary look-ups."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)
        # Every name above a protected name, so a domain entry covering one is caught.
        self.covering: dict[str, str] = {}
        for name in self.names:
            for parent in parent_names(name)[1:]:
                self.covering.setdefault(parent, name)

    @classmethod
    def for_hotline(cls, hotline: Organisation) -> ProtectedNames:
        extra = ProtectedDomain.objects.filter(hotline=hotline).values_list("name", flat=True)
        return cls(shipped_protected_domains() | set(extra))

    def match(self, host: str, kind: str) -> str:
        """The protected name this entry touches, or an empty string."""
        for name in parent_names(host):
            if name in self.names:
                return name
        if kind == EntryKind.DOMAIN and host in self.covering:
            return self.covering[host]
        return ""


class NotIllegalCounts:
    """How many distinct URLs were assessed not illegal on each name and below it."""

    def __init__(self, per_host: Iterable[tuple[str, int]]) -> None:
        self.totals: dict[str, int] = {}
        self.exact: dict[str, int] = {}
        for host, count in per_host:
            self.exact[host] = self.exact.get(host, 0) + count
            for name in parent_names(host):
                self.totals[name] = self.totals.get(name, 0) + count

    @classmethod
    def from_reports(cls) -> NotIllegalCounts:
        # Every hotline's assessments count: a site one hotline found legitimate
        # is not dedicated to abuse for another either.
        rows = (
            ReportedUrl.objects.filter(state=UrlState.NOT_ILLEGAL)
            .exclude(host="")
            .values_list("host")
            .annotate(n=Count("normalized_url", distinct=True))
        )
        return cls((host, n) for host, n in rows)

    @classmethod
    def around(cls, names: Iterable[str], *, below: bool = False) -> NotIllegalCounts:
        """The counts on ``names`` only (and, with ``below``, the names under them).

        For a page that shows a few names: one query over those hosts rather
        than every report, as a publication needs.
        """
        names = list(names)
        where = Q(host__in=names)
        if below:
            for name in names:
                where |= Q(host__endswith=f".{name}")
        rows = (
            ReportedUrl.objects.filter(where, state=UrlState.NOT_ILLEGAL)
            .values_list("host")
            .annotate(n=Count("normalized_url", distinct=True))
        )
        return cls((host, n) for host, n in rows)

    def under(self, domain: str) -> int:
        return self.totals.get(domain, 0)

    def on(self, host: str) -> int:
        """On this host name exactly: what a whole-host entry blocks."""
        return self.exact.get(host, 0)


class EntryChecker:
    """The per-entry rules, run over every entry of the version about to be published."""

    def __init__(self, protected: ProtectedNames, not_illegal: NotIllegalCounts) -> None:
        self.protected = protected
        self.not_illegal = not_illegal
        self.limit: int = settings.OPENHOTLINE_BLOCKLIST_MAX_NOT_ILLEGAL_URLS

    @classmethod
    def for_hotline(cls, hotline: Organisation) -> EntryChecker:
        return cls(ProtectedNames.for_hotline(hotline), NotIllegalCounts.from_reports())

    def check(self, code: str, kind: str, host: str, value: str = "") -> Violation | None:
        problem = dns_name_problem(host, kind=kind)
        if problem:
            return Violation(RULE_MALFORMED, problem, code, value)
        protected = self.protected.match(host, kind)
        if protected:
            return Violation(
                RULE_PROTECTED, f"{host} touches the protected name {protected}", code, value
            )
        if kind in WHOLE_NAME_KINDS:
            whole = "domain" if kind == EntryKind.DOMAIN else "host"
            seen = (
                self.not_illegal.under(host)
                if kind == EntryKind.DOMAIN
                else self.not_illegal.on(host)
            )
            if seen >= self.limit:
                return Violation(
                    RULE_NOT_ILLEGAL,
                    f"{seen} distinct URLs {'under' if whole == 'domain' else 'on'} {host} "
                    f"were assessed not illegal (limit {self.limit}); the {whole} is not "
                    "dedicated to abuse material",
                    code,
                    value,
                )
        return None


def preview(hotline: Organisation, kind: str, host: str, code: str = "") -> Violation | None:
    """What the per-entry rules say now of an entry not yet published.

    The rules run again at publication, over the whole version; this answer is
    for the analyst deciding, so a doomed proposal is seen before it stops a
    publication.
    """
    counts = NotIllegalCounts.around([host], below=kind == EntryKind.DOMAIN)
    return EntryChecker(ProtectedNames.for_hotline(hotline), counts).check(code, kind, host)


def change_share_violation(live_count: int, added: int, removed: int) -> Violation | None:
    """Refuse a change touching more than the allowed share of the list.

    The share is taken of the live list, but of at least
    ``OPENHOTLINE_BLOCKLIST_CHANGE_BASE`` entries, so a list of ten cannot
    become a list of eight thousand in one step either.
    """
    base = max(live_count, settings.OPENHOTLINE_BLOCKLIST_CHANGE_BASE)
    limit: float = settings.OPENHOTLINE_BLOCKLIST_MAX_CHANGE_SHARE
    changed = added + removed
    if changed <= limit * base:
        return None
    return Violation(
        RULE_CHANGE_SHARE,
        f"{added} added and {removed} removed: {changed / base:.0%} of {base} entries, "
        f"over the limit of {limit:.0%}; a senior analyst must override explicitly",
    )
