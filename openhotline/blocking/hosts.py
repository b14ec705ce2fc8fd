"""The hosts whose listed URLs the DNS exports leave out, for the blocking page.

A URL entry reaches proxies only; DNS blocks nothing of its host. When an analyst
finds a host dedicated to abuse material, the page offers to propose it as a
whole host, which then goes through four-eyes approval and the guards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import Count

from openhotline.accounts.models import Organisation
from openhotline.blocking.guards import EntryChecker, NotIllegalCounts, ProtectedNames
from openhotline.blocking.models import (
    ACTIVE_STATES,
    WHOLE_NAME_KINDS,
    BlocklistEntry,
    EntryKind,
    EntryState,
)
from openhotline.blocking.names import parent_names


@dataclass(frozen=True)
class UrlOnlyHost:
    host: str
    urls: int
    # An active whole-host entry proposed for it, waiting for approval or publication.
    pending_code: str = ""
    # Why the guards would refuse it as a whole host (a shared host, say); empty if not.
    refused: str = ""


def url_only_hosts(hotline: Organisation, limit: int = 100) -> tuple[list[UrlOnlyHost], int]:
    """Hosts with approved or live URL entries that no whole-name entry blocks in DNS.

    Returns up to ``limit`` of them, most URLs first, and how many there are;
    each says whether the guards would refuse it as a whole host (``guards.py``).
    """
    counts = (
        BlocklistEntry.objects.filter(
            hotline=hotline,
            kind=EntryKind.URL,
            state__in=[EntryState.APPROVED, EntryState.LIVE],
        )
        .values_list("host")
        .annotate(n=Count("id"))
        .order_by("-n", "host")
    )
    whole = {
        (kind, host): (code, state)
        for kind, host, code, state in BlocklistEntry.objects.filter(
            hotline=hotline, kind__in=WHOLE_NAME_KINDS, state__in=ACTIVE_STATES
        ).values_list("kind", "host", "code", "state")
    }
    found: list[UrlOnlyHost] = []
    total = 0
    for host, n in counts.iterator():
        own = whole.get((EntryKind.HOST, host))
        covered = (own is not None and own[1] == EntryState.LIVE) or any(
            whole.get((EntryKind.DOMAIN, name), ("", ""))[1] == EntryState.LIVE
            for name in parent_names(host)
        )
        if covered:
            continue
        total += 1
        if len(found) < limit:
            found.append(UrlOnlyHost(host, n, own[0] if own else ""))
    checker = EntryChecker(
        ProtectedNames.for_hotline(hotline), NotIllegalCounts.around(h.host for h in found)
    )
    for i, item in enumerate(found):
        violation = checker.check("", EntryKind.HOST, item.host)
        if violation is not None:
            found[i] = replace(item, refused=f"[{violation.rule}] {violation.message}")
    return found, total
