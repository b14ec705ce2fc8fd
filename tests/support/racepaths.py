"""The creations that race, as the racers call them (see ``tests/support/racers.py``).

Each takes ids and plain values, runs the production code path that
creates the row, and returns the primary key the caller ended up with.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# How long a racer's transaction goes on after the creation, as the real
# callers' do (timeline, audit, the rest of the action): the window in which
# a second writer finds nothing committed yet.
HOLD_SECONDS = 0.3


def held(create: Callable[[], T]) -> T:
    """Run ``create`` in a transaction that commits ``HOLD_SECONDS`` later."""
    from django.db import transaction

    with transaction.atomic():
        result = create()
        time.sleep(HOLD_SECONDS)
    return result


def file_report(hotline_id: int, urls: list[str]) -> list[int]:
    from openhotline.accounts.models import Organisation
    from openhotline.reports.actions import do_file_report

    hotline = Organisation.objects.get(pk=hotline_id)
    report = held(lambda: do_file_report(hotline, source="public", urls=urls))
    by_url = {u.normalized_url: u.pk for u in report.urls.all()}
    return [by_url[url] for url in sorted(by_url)]


def partner_report(api_key_id: int, hotline_id: int, url: str, key: str) -> tuple[int, str]:
    from openhotline.accounts.models import ApiKey, Organisation
    from openhotline.intake.actions.partner import (
        Idempotency,
        PartnerSubmission,
        do_submit_partner_report,
    )

    api_key = ApiKey.objects.select_related("organisation").get(pk=api_key_id)
    hotline = Organisation.objects.get(pk=hotline_id)
    body = json.dumps({"urls": [url]}).encode()
    # Not held: an outer transaction would keep its refused insert from being retried.
    status, answer = do_submit_partner_report(
        api_key,
        hotline,
        PartnerSubmission(urls=[url]),
        idempotency=Idempotency.of(key, "reports", body),
        render=lambda report: {"code": report.code},
    )
    return status, str(answer["code"])


def registrar_contact(hotline_id: int, name: str, email: str) -> int:
    from openhotline.accounts.models import Organisation
    from openhotline.takedown.actions.contacts import registrar_contact as find_or_add

    contact = held(lambda: find_or_add(Organisation.objects.get(pk=hotline_id), name, email))
    assert contact is not None
    return contact.pk


def open_case(reported_url_id: int) -> int:
    from openhotline.reports.models import ReportedUrl
    from openhotline.takedown.actions.cases import do_open_case

    url = ReportedUrl.objects.get(pk=reported_url_id)
    return held(lambda: do_open_case(url, notify=False)).pk


def own_set(hotline_id: int) -> int:
    from openhotline.accounts.models import Organisation
    from openhotline.matching.actions.ownset import own_set as find_or_add

    hotline = Organisation.objects.get(pk=hotline_id)
    return held(lambda: find_or_add(hotline)).pk


def feed_own_set(status_id: int) -> int:
    from openhotline.assessment.models import ItemStatus
    from openhotline.matching.actions.ownset import do_feed_own_set

    status = ItemStatus.objects.get(pk=status_id)
    entry = held(lambda: do_feed_own_set(status))
    assert entry is not None
    return entry.pk


def propose_entry(hotline_id: int, source_id: int, value: str) -> int:
    from openhotline.accounts.models import Organisation
    from openhotline.blocking.actions.entries import do_propose_entry
    from openhotline.blocking.models import BlocklistSource

    hotline = Organisation.objects.get(pk=hotline_id)
    source = BlocklistSource.objects.get(pk=source_id)
    return held(lambda: do_propose_entry(hotline, value=value, kind="url", source=source)).pk


def pick_crawl_run(reported_url_id: int) -> int:
    from openhotline.crawler.tasks import _pick_run
    from openhotline.reports.models import ReportedUrl

    url = ReportedUrl.objects.get(pk=reported_url_id)
    run = held(lambda: _pick_run(url, None))
    assert run is not None
    return run.pk


def request_recrawl(user_id: int, reported_url_id: int) -> int:
    from openhotline.accounts.models import User
    from openhotline.crawler.actions import do_request_recrawl
    from openhotline.reports.models import ReportedUrl

    user = User.objects.get(pk=user_id)
    url = ReportedUrl.objects.get(pk=reported_url_id)
    return held(lambda: do_request_recrawl(user, url)).pk


def police_referral(reported_url_id: int, channel: str, country: str) -> int:
    from openhotline.network.actions.routing import _referral
    from openhotline.reports.models import ReportedUrl

    url = ReportedUrl.objects.get(pk=reported_url_id)
    return held(lambda: _referral(url, channel, country)).pk


def deconfliction_link(reported_url_id: int, other_url_id: int) -> int:
    from openhotline.reports.models import DeconflictionLink

    link, _ = held(
        lambda: DeconflictionLink.objects.get_or_create(
            reported_url_id=reported_url_id, other_url_id=other_url_id
        )
    )
    return int(link.pk)


def log_entries_or_follow(role: str, set_id: int, count: int, expected: int) -> list[int]:
    """A writer of the index change log, or a follower of it (``matching.changelog``).

    A writer adds ``count`` entries, one transaction each, logging it and then
    waiting a moment before the commit: the window in which another writer's
    later serial could become visible first. The follower reads the log as a
    machine's catch-up does, from its last serial on, until ``expected``
    changes are committed and it has read to the end; it returns the entry ids
    it saw, in order.
    """
    import random

    from django.db import transaction

    from openhotline.matching.changelog import changes_after, latest_serial, log_added
    from openhotline.matching.models import HashEntry, IndexChange

    if role == "follow":
        seen: list[int] = []
        serial = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            changes = changes_after(serial, 1000)
            seen.extend(entry_id for _, entry_id, _ in changes)
            serial = changes[-1][0] if changes else serial
            if IndexChange.objects.count() >= expected and serial >= latest_serial():
                break
            time.sleep(0.002)
        return seen
    added = []
    for n in range(count):
        with transaction.atomic():
            entry = HashEntry.objects.create(
                hash_set_id=set_id, key=f"pdq:{role}-{n}", pdq=f"{n:064x}"
            )
            time.sleep(random.uniform(0, 0.01))  # noqa: S311 (timing jitter, not secrets)
            log_added([entry.pk])
            time.sleep(random.uniform(0, 0.02))  # noqa: S311
        added.append(entry.pk)
    return added
