"""The data migrations that merge duplicates before each one-row constraint is added.

An installation may hold duplicates made before the constraints existed.
Each test drops the constraint's index (the test's transaction brings it
back), makes duplicates as the old code could, runs the migration's merge
on the real app registry and checks what is left: one row per fact, the
survivor the migration promises, and nothing lost.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.crawler.models import CrawlRun
from openhotline.reports.models import Report, ReportedUrl, ReportLink
from openhotline.takedown.models import AbuseContact, TakedownCase

pytestmark = pytest.mark.django_db


def migration(app: str, name: str) -> Any:
    return importlib.import_module(f"openhotline.{app}.migrations.{name}")


def drop_index(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")


def test_duplicate_open_urls_are_merged_into_the_one_furthest_along(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    drop_index("one_open_url_per_hotline")
    now = timezone.now()
    address = "http://dup.test/"

    def url(state: str, age_days: int, hotline: Organisation = hotline_a) -> ReportedUrl:
        row = ReportedUrl.objects.create(
            hotline=hotline, url=address, normalized_url=address, state=state
        )
        ReportedUrl.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=age_days))
        return row

    oldest, ahead, newest = url("new", 3), url("illegal", 2), url("new", 1)
    closed = url("not_illegal", 5)
    elsewhere = url("new", 4, hotline_b)
    reports = [Report.objects.create(hotline=hotline_a, source="public") for _ in range(3)]
    for report, row in zip(reports, (oldest, ahead, newest), strict=True):
        ReportLink.objects.create(report=report, reported_url=row)
    ReportLink.objects.create(report=reports[0], reported_url=ahead)  # already linked to both

    migration("reports", "0002_merge_duplicate_open_urls").merge_duplicates(apps, None)

    states = dict(ReportedUrl.objects.values_list("pk", "state"))
    assert states == {
        oldest.pk: "closed",
        ahead.pk: "illegal",
        newest.pk: "closed",
        closed.pk: "not_illegal",
        elsewhere.pk: "new",
    }
    assert set(ReportLink.objects.values_list("report_id", "reported_url_id")) == {
        (report.pk, ahead.pk) for report in reports
    }
    merged = ahead.timeline.filter(kind="url.merged")
    assert {entry.detail["from"] for entry in merged} == {oldest.code, newest.code}
    assert oldest.timeline.get(kind="url.merged").detail == {"into": ahead.code}


def test_duplicate_contacts_are_merged_into_the_oldest_approved_one(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    drop_index("one_contact_per_address")
    drop_index("one_contact_per_name")

    def contact(name: str, email: str, hotline: Organisation = hotline_a, **extra: Any) -> Any:
        return AbuseContact.objects.create(
            hotline=hotline, name=name, email=email, kind="hoster", source="rdap", **extra
        )

    first = contact("Host", "abuse@host.test")
    approved = contact("Host", "Abuse@Host.TEST", approved_at=timezone.now())
    third = contact("Host", "abuse@host.test", escalate_to=first)
    other_hotline = contact("Host", "abuse@host.test", hotline_b)
    nameless = [contact("No Address Ltd", ""), contact("no address ltd", "")]
    url = ReportedUrl.objects.create(hotline=hotline_a, url="http://c.test/", normalized_url="x")
    case = TakedownCase.objects.create(
        reported_url=url,
        hotline=hotline_a,
        state="waiting",
        contact=third,
        next_check_at=url.created_at,
    )

    migration("takedown", "0002_merge_duplicate_contacts").merge_duplicates(apps, None)

    merged = dict(AbuseContact.objects.values_list("pk", "merged_into_id"))
    assert merged == {
        first.pk: approved.pk,
        approved.pk: None,
        third.pk: approved.pk,
        other_hotline.pk: None,
        nameless[0].pk: None,
        nameless[1].pk: nameless[0].pk,
    }
    case.refresh_from_db()
    assert case.contact_id == approved.pk
    third.refresh_from_db()
    assert third.escalate_to_id == approved.pk


def test_duplicate_unfinished_crawls_leave_the_running_one(hotline_a: Organisation) -> None:
    drop_index("one_unfinished_crawl_per_url")
    url = ReportedUrl.objects.create(hotline=hotline_a, url="http://r.test/", normalized_url="r")
    queued = CrawlRun.objects.create(reported_url=url, state="queued")
    running = CrawlRun.objects.create(reported_url=url, state="running")
    done = CrawlRun.objects.create(reported_url=url, state="done")

    migration("crawler", "0002_close_duplicate_unfinished_crawls").close_duplicates(apps, None)

    states = dict(CrawlRun.objects.values_list("pk", "state"))
    assert states == {queued.pk: "failed", running.pk: "running", done.pk: "done"}
    assert running.code in CrawlRun.objects.get(pk=queued.pk).fatal_error
