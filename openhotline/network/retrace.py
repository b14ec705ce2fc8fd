"""Trace again a URL whose route waits for a better trace, when takedown finds it still online.

Moved here from ``takedown.tasks``: the route is network's. Takedown's
re-check sends ``takedown.signals.url_still_online``; the receiver runs in
the re-check task, so an error fails that task as it did before.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from openhotline.crawler.hosting_facts import fresh_facts
from openhotline.network.actions.routing import route_quietly
from openhotline.network.models import Route
from openhotline.reports.models import ReportedUrl
from openhotline.takedown.models import TakedownCase
from openhotline.takedown.signals import url_still_online


@receiver(url_still_online, dispatch_uid="network.trace_again_when_still_online")
def _on_url_still_online(
    sender: Any, case: TakedownCase, address: str | None, **kwargs: Any
) -> None:
    trace_again(case.reported_url, address)


def trace_again(reported_url: ReportedUrl, address: str | None) -> None:
    """Route anew a provisional route when a fresh trace locates the URL elsewhere."""
    route = Route.objects.filter(reported_url=reported_url).first()
    if route is None or not route.is_provisional():
        return
    facts = fresh_facts(reported_url, connected_address=address)
    if facts.is_located() and (facts.cdn != route.cdn or facts.country != route.country):
        if facts.country and reported_url.hosting_country != facts.country:
            reported_url.hosting_country = facts.country
            reported_url.save(update_fields=["hosting_country", "updated_at"])
        route_quietly(reported_url, facts=facts)
