"""The priority queue: reported URLs waiting for assessment, best first, with filters.

Pages are cut by keyset (the last row's score and id), never by offset, and
the total is counted only up to ``COUNT_LIMIT``: the cost of a page does not
grow with the number of open URLs, and its number of queries is constant.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import Organisation, User
from openhotline.assessment.queue_search import Search, search_q
from openhotline.reports.models import ReportedUrl, ReportLink, ReportSource, UrlState

# The states of a URL still waiting for an analyst's assessment.
QUEUE_STATES = frozenset(
    {
        UrlState.NEW,
        UrlState.CRAWLING,
        UrlState.CRAWL_FAILED,
        UrlState.AWAITING_ASSESSMENT,
        UrlState.ASSESSING,
    }
)
PAGE_SIZE = 50
COUNT_LIMIT = 1000
MAX_SCORE = 2**31 - 1
AGES = {
    "1d": gettext_lazy("Less than a day"),
    "7d": gettext_lazy("Less than a week"),
    "older": gettext_lazy("Older than a week"),
}
MATERIALS = {"new": gettext_lazy("New material"), "known": gettext_lazy("Only known material")}


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters, read from the query string (anything invalid is ignored)."""

    state: str = ""
    source: str = ""
    country: str = ""
    material: str = ""
    age: str = ""
    assignee: str = ""
    q: str = ""  # the search box (queue_search.py)

    @classmethod
    def from_query(cls, query: Any) -> QueueFilters:
        state = query.get("state", "")
        source = query.get("source", "")
        country = query.get("country", "").strip().upper()
        return cls(
            state=state if state in UrlState.values else "",
            source=source if source in ReportSource.values else "",
            country=country if len(country) == 2 and country.isalpha() else "",
            material=query.get("material", "") if query.get("material") in MATERIALS else "",
            age=query.get("age", "") if query.get("age") in AGES else "",
            assignee=query.get("assignee", "")[:150],
            q=query.get("q", "").strip()[:2048],
        )

    def query(self, **extra: str) -> str:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(extra)
        return urlencode({k: v for k, v in values.items() if v})

    def pairs(self) -> list[tuple[str, str]]:
        """The filters "take the next URL" keeps: not the search, which reaches finished URLs."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if f.name != "q"]


@dataclass(frozen=True)
class QueueHotline:
    hotline: Organisation
    idle_minutes: int


def queue_hotlines(user: User) -> list[QueueHotline]:
    """The user's hotlines with their claim idle time, in one query."""
    hotlines = hotlines_for_user(user).select_related("workspace_settings")
    result = []
    for hotline in hotlines:
        ws = getattr(hotline, "workspace_settings", None)
        minutes = ws.claim_idle_minutes if ws else settings.OPENHOTLINE_CLAIM_IDLE_MINUTES
        result.append(QueueHotline(hotline, minutes))
    return result


def live_claim_q(hotlines: list[QueueHotline], now: datetime) -> Q:
    """URLs with a claim touched within their hotline's idle time."""
    q = Q(pk__in=[])
    for entry in hotlines:
        q |= Q(
            hotline=entry.hotline,
            claim__last_seen_at__gte=now - timedelta(minutes=entry.idle_minutes),
        )
    return q


def queue_urls(
    user: User,
    filters: QueueFilters,
    hotlines: list[QueueHotline],
    now: datetime | None = None,
    *,
    search: Search | None = None,
) -> QuerySet[ReportedUrl]:
    """The URLs of the user's hotlines the filters keep, best first.

    Without a search (or a state filter) only URLs waiting for assessment; a
    search looks through every state, since one often looks for a URL that is
    already assessed.
    """
    moment = now or timezone.now()
    hotline_ids = [h.hotline.pk for h in hotlines]
    urls = ReportedUrl.objects.filter(hotline_id__in=hotline_ids)
    if filters.state:
        urls = urls.filter(state=filters.state)
    elif search is None:
        urls = urls.filter(state__in=QUEUE_STATES)
    if search is not None:
        urls = urls.filter(search_q(search))
    if filters.source:
        urls = urls.filter(
            Exists(
                ReportLink.objects.filter(
                    reported_url=OuterRef("pk"), report__source=filters.source
                )
            )
        )
    if filters.country:
        urls = urls.filter(hosting_country__iexact=filters.country)
    if filters.material == "new":
        urls = urls.filter(priority_info__new_items__gt=0)
    elif filters.material == "known":
        urls = urls.filter(priority_info__known_items__gt=0, priority_info__new_items=0)
    if filters.age == "1d":
        urls = urls.filter(created_at__gte=moment - timedelta(days=1))
    elif filters.age == "7d":
        urls = urls.filter(created_at__gte=moment - timedelta(days=7))
    elif filters.age == "older":
        urls = urls.filter(created_at__lt=moment - timedelta(days=7))
    if filters.assignee:
        live = live_claim_q(hotlines, moment)
        if filters.assignee == "none":
            urls = urls.exclude(live)
        else:
            name = user.get_username() if filters.assignee == "me" else filters.assignee
            urls = urls.filter(live, claim__analyst__username=name)
    return urls.order_by("-priority", "pk")


def parse_cursor(raw: str) -> tuple[int, int] | None:
    try:
        priority, pk = raw.split(":", 1)
        return int(priority), int(pk)
    except ValueError:
        return None


def page_after(
    urls: QuerySet[ReportedUrl], cursor: tuple[int, int] | None, size: int = PAGE_SIZE
) -> tuple[list[ReportedUrl], str]:
    """One page after ``cursor`` and the cursor of the next page ("" on the last).

    1. Find the page's keys alone: the planner can then walk an index of
       (hotline, state, priority) instead of joining 100,000 rows first.
    2. Load those rows with what the page shows (hotline, score, claim) and
       put them back in queue order.
    """
    if cursor is None:
        # The same range from the top: it steers the planner to the score index
        # rather than, say, the creation-date index of an age filter.
        urls = urls.filter(priority__lte=MAX_SCORE)
    else:
        priority, pk = cursor
        # A range on the score (index-friendly), less the rows of the same score already shown.
        urls = urls.filter(priority__lte=priority).exclude(priority=priority, pk__lte=pk)
    keys = list(urls.values_list("priority", "pk")[: size + 1])
    more = len(keys) > size
    keys = keys[:size]
    loaded = ReportedUrl.objects.select_related(
        "hotline", "priority_info", "claim__analyst"
    ).in_bulk([pk for _, pk in keys])
    rows = [loaded[pk] for _, pk in keys if pk in loaded]
    next_cursor = f"{keys[-1][0]}:{keys[-1][1]}" if more and keys else ""
    return rows, next_cursor


def bounded_count(urls: QuerySet[ReportedUrl]) -> tuple[int, bool]:
    """How many, counting at most ``COUNT_LIMIT`` (and whether there are more)."""
    n = urls.order_by().values("pk")[: COUNT_LIMIT + 1].count()
    return min(n, COUNT_LIMIT), n > COUNT_LIMIT
