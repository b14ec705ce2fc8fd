"""do_file_report's deconfliction: the window, other hotlines, escalation and the crawl queue."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.celery import app
from openhotline.reports.actions import CRAWL_TASK, do_file_report, do_set_url_state
from openhotline.reports.models import DeconflictionLink, ReportedUrl, ReportSource, UrlState

pytestmark = pytest.mark.django_db
URL = "http://gallery.test/a"


def file(hotline: Organisation, url: str = URL, **kwargs: Any) -> ReportedUrl:
    report = do_file_report(hotline, source=ReportSource.PUBLIC, urls=[url], **kwargs)
    return report.urls.get()


def assess(reported_url: ReportedUrl, days_ago: int, state: str = UrlState.NOT_ILLEGAL) -> None:
    do_set_url_state(reported_url, state)
    ReportedUrl.objects.filter(pk=reported_url.pk).update(
        assessed_at=timezone.now() - timedelta(days=days_ago)
    )


def test_a_url_assessed_within_the_window_is_linked_not_assessed_again(
    hotline_a: Organisation, settings: Any
) -> None:
    settings.OPENHOTLINE_DECONFLICTION_DAYS = 30
    first = file(hotline_a)
    assess(first, days_ago=10)
    assert file(hotline_a) == first
    assert first.reports.count() == 2


def test_a_url_assessed_before_the_window_is_assessed_again(
    hotline_a: Organisation, settings: Any
) -> None:
    settings.OPENHOTLINE_DECONFLICTION_DAYS = 30
    first = file(hotline_a)
    assess(first, days_ago=31)
    second = file(hotline_a)
    assert second != first and second.state == UrlState.NEW


def test_a_closed_url_never_assessed_is_reported_afresh(hotline_a: Organisation) -> None:
    first = file(hotline_a)
    do_set_url_state(first, UrlState.CLOSED)
    assert file(hotline_a) != first


def test_the_same_url_at_another_hotline_is_linked_by_name_only(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    at_b = file(hotline_b)
    at_a = file(hotline_a, "HTTP://GALLERY.test:80/a#frag")
    assert at_a != at_b
    assert set(DeconflictionLink.objects.values_list("reported_url", "other_url")) == {
        (at_a.pk, at_b.pk),
        (at_b.pk, at_a.pk),
    }
    mine = at_a.timeline.get(kind="url.deconflicted")
    theirs = at_b.timeline.get(kind="url.deconflicted")
    assert mine.message == "Also reported to Hotline B" and mine.detail == {"hotline": "Hotline B"}
    assert theirs.message == "Also reported to Hotline A"
    # Reporting it again at A adds no second link.
    file(hotline_a)
    assert DeconflictionLink.objects.count() == 2


def test_a_url_another_hotline_closed_long_ago_is_not_linked(
    hotline_a: Organisation, hotline_b: Organisation, settings: Any
) -> None:
    settings.OPENHOTLINE_DECONFLICTION_DAYS = 30
    assess(file(hotline_b), days_ago=90, state=UrlState.REMOVED)
    file(hotline_a)
    assert not DeconflictionLink.objects.exists()


def test_an_escalated_report_raises_priority_once(hotline_a: Organisation) -> None:
    reported = file(hotline_a)
    assert reported.priority == 0
    file(hotline_a, escalated=True)
    file(hotline_a, escalated=True)
    reported.refresh_from_db()
    assert reported.priority == 100
    assert reported.timeline.filter(kind="url.escalated").count() == 1


def test_each_new_url_queues_a_crawl_after_commit(
    hotline_a: Organisation,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[tuple[str, list[int], str]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args, queue: sent.append((name, args, queue))
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = file(hotline_a)
    with django_capture_on_commit_callbacks(execute=True):
        file(hotline_a)  # linked, not new: no second crawl
    assert sent == [(CRAWL_TASK, [first.pk], "crawl")]


def test_a_broker_outage_does_not_fail_the_report(
    hotline_a: Organisation,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", refuse)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        reported = file(hotline_a)
    assert ReportedUrl.objects.filter(pk=reported.pk, state=UrlState.NEW).exists()
    assert "could not queue the crawl" in caplog.text
