"""The internet provider's page, ``/app/isp/``: its feed, how up to date it is, the stop page.

An ISP operator sees, for each hotline whose list the provider reads (those
of its country, ``access.hotlines_for_isp``): the feed's URLs and formats
(and any format that cannot be served as configured), the provider's last
fetch, the version it fetched and how far behind the live version that is.
Its keys are rotated on ``/app/keys/`` (``accounts.key_views``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from openhotline.accounts.access import get_own_organisation, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ApiKey, Organisation, Role
from openhotline.blocking.access import hotlines_for_isp
from openhotline.blocking.exports import DNS_FORMATS, FORMATS, ExportOptions, unservable_formats
from openhotline.blocking.models import FeedFetch, Publication
from openhotline.blocking.versions import current_publication

ISP_ROLES: set[str] = {Role.ISP_OPERATOR}


@dataclass
class HotlineFeed:
    hotline: Organisation
    live: Publication | None
    last_fetch: FeedFetch | None
    last_good: FeedFetch | None
    urls: list[tuple[str, str, str]]  # (format, URL, problem)

    @property
    def behind(self) -> int | None:
        """Versions between the one last fetched and the live one (None: never fetched)."""
        if self.live is None or self.last_good is None:
            return None
        return max(self.live.serial - self.last_good.serial, 0)


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    isp = get_own_organisation(request_user(request), ISP_ROLES)
    problems = unservable_formats()
    hotlines = list(hotlines_for_isp(isp))
    feeds = []
    for hotline in hotlines:
        fetches = FeedFetch.objects.filter(isp=isp, hotline=hotline).order_by("-created_at")
        suffix = f"?hotline={hotline.slug}" if len(hotlines) > 1 else ""
        feeds.append(
            HotlineFeed(
                hotline=hotline,
                live=current_publication(hotline),
                last_fetch=fetches.first(),
                last_good=fetches.filter(status__in=[200, 304]).first(),
                urls=[
                    (
                        fmt,
                        request.build_absolute_uri(reverse("blocking:feed", args=[fmt])) + suffix,
                        problems.get(fmt, ""),
                    )
                    for fmt in FORMATS
                ],
            )
        )
    keys = ApiKey.objects.filter(organisation=isp).aggregate(
        active=Count("pk", filter=Q(revoked_at__isnull=True))
    )
    options = ExportOptions.from_settings()
    return render(
        request,
        "blocking/isp_home.html",
        {
            "isp": isp,
            "feeds": feeds,
            "active_keys": keys["active"],
            "dns_formats": DNS_FORMATS,
            "options": options,
            "stop_records": options.records(),
            "public_base": settings.OPENHOTLINE_PUBLIC_BASE_URL,
        },
    )
