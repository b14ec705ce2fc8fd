"""The sweep that queues again crawls whose task the broker lost, and the claim on a run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.models import Organisation
from openhotline.crawler import tasks
from openhotline.crawler.models import CrawlRun, CrawlState
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource

pytestmark = pytest.mark.django_db


def new_url(hotline: Organisation, url: str) -> ReportedUrl:
    return do_file_report(hotline, source=ReportSource.PUBLIC, urls=[url]).urls.get()


def age(run: CrawlRun, seconds: float) -> None:
    CrawlRun.objects.filter(pk=run.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str | None]]:
    sent: list[tuple[int, str | None]] = []
    monkeypatch.setattr(
        tasks.crawl_reported_url, "delay", lambda pk, code=None: sent.append((pk, code))
    )
    return sent


def test_a_queued_run_whose_retry_was_lost_is_queued_again_with_its_code(
    hotline_a: Organisation, settings: SettingsWrapper, queued: list[tuple[int, str | None]]
) -> None:
    settings.OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS = 60
    lost = CrawlRun.objects.create(reported_url=new_url(hotline_a, "http://lost.test/"))
    waiting = CrawlRun.objects.create(reported_url=new_url(hotline_a, "http://waiting.test/"))
    age(lost, 61)
    age(waiting, 30)
    assert tasks.queue_forgotten_crawls() == 1
    assert queued == [(lost.reported_url_id, lost.code)]
    # Touched: the next sweep gives the new delivery a whole interval.
    assert tasks.queue_forgotten_crawls() == 0


def test_a_running_run_is_queued_again_only_once_its_worker_is_surely_gone(
    hotline_a: Organisation, queued: list[tuple[int, str | None]]
) -> None:
    dead = CrawlRun.objects.create(
        reported_url=new_url(hotline_a, "http://dead.test/"), state=CrawlState.RUNNING
    )
    busy = CrawlRun.objects.create(
        reported_url=new_url(hotline_a, "http://busy.test/"), state=CrawlState.RUNNING
    )
    age(dead, tasks.STALE_SECONDS + 1)
    age(busy, tasks.STALE_SECONDS - 60)
    assert tasks.queue_forgotten_crawls() == 1
    assert queued == [(dead.reported_url_id, dead.code)]


def test_finished_runs_are_never_queued_again(
    hotline_a: Organisation, queued: list[tuple[int, str | None]]
) -> None:
    run = CrawlRun.objects.create(
        reported_url=new_url(hotline_a, "http://done.test/"), state=CrawlState.DONE
    )
    age(run, 10 * tasks.STALE_SECONDS)
    assert tasks.queue_forgotten_crawls() == 0 and queued == []


def test_of_two_deliveries_that_read_a_run_at_once_one_claims_it(
    hotline_a: Organisation,
) -> None:
    run = CrawlRun.objects.create(reported_url=new_url(hotline_a, "http://twice.test/"))
    first, second = CrawlRun.objects.get(pk=run.pk), CrawlRun.objects.get(pk=run.pk)
    assert tasks._claim(first) is True
    assert tasks._claim(second) is False


def test_a_new_url_queued_again_waits_a_whole_interval_before_the_next_time(
    hotline_a: Organisation, settings: SettingsWrapper, queued: list[tuple[int, str | None]]
) -> None:
    settings.OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS = 60
    url = new_url(hotline_a, "http://waiting-long.test/")
    ReportedUrl.objects.filter(pk=url.pk).update(
        created_at=timezone.now() - timedelta(seconds=61),
        updated_at=timezone.now() - timedelta(seconds=61),
    )
    assert tasks.queue_forgotten_crawls() == 1
    assert tasks.queue_forgotten_crawls() == 0  # still on its way: no second message
    ReportedUrl.objects.filter(pk=url.pk).update(updated_at=timezone.now() - timedelta(seconds=61))
    assert tasks.queue_forgotten_crawls() == 1
    assert queued == [(url.pk, None), (url.pk, None)]
