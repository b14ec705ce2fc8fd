from __future__ import annotations

import pytest

from openhotline.accounts.models import Organisation
from openhotline.audit.models import AuditEvent
from openhotline.lib.urlnorm import UrlError
from openhotline.reports.actions import do_file_report, do_set_url_state
from openhotline.reports.models import Report, ReportedUrl, ReportSource, UrlState

pytestmark = pytest.mark.django_db


def test_a_url_reported_twice_is_linked_not_duplicated(hotline_a: Organisation) -> None:
    first = do_file_report(
        hotline_a, source=ReportSource.PUBLIC, urls=["HTTP://Gallery.test:80/a#x"]
    )
    second = do_file_report(hotline_a, source=ReportSource.PARTNER, urls=["http://gallery.test/a"])
    reported = ReportedUrl.objects.get()
    assert reported.normalized_url == "http://gallery.test/a"
    assert set(reported.reports.all()) == {first, second}
    assert reported.timeline.filter(kind="url.reported_again").count() == 1


def test_each_hotline_keeps_its_own_reported_url(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://gallery.test/a"])
    do_file_report(hotline_b, source=ReportSource.PUBLIC, urls=["http://gallery.test/a"])
    assert ReportedUrl.objects.count() == 2


def test_a_bad_url_leaves_nothing_behind(hotline_a: Organisation) -> None:
    with pytest.raises(UrlError):
        do_file_report(
            hotline_a, source=ReportSource.PUBLIC, urls=["http://ok.test/", "javascript:alert(1)"]
        )
    assert not Report.objects.exists() and not ReportedUrl.objects.exists()
    assert not AuditEvent.objects.filter(action="report.filed").exists()


def test_a_report_needs_a_url_or_a_description(hotline_a: Organisation) -> None:
    with pytest.raises(ValueError, match="at least one URL or a description"):
        do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=[])
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=[], description="a chat")
    assert report.urls.count() == 0


def test_removal_records_the_time_once(hotline_a: Organisation) -> None:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://gallery.test/a"])
    reported = report.urls.get()
    do_set_url_state(reported, UrlState.REMOVED)
    removed_at = ReportedUrl.objects.get().removed_at
    assert removed_at is not None
    do_set_url_state(reported, UrlState.REMOVED)
    assert ReportedUrl.objects.get().removed_at == removed_at
    assert AuditEvent.objects.filter(action="reported_url.state_changed").count() == 2
