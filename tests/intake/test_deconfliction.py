from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template

from openhotline.accounts.models import Organisation, User
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource

pytestmark = pytest.mark.django_db
URL = "http://gallery.test/a"


def test_a_url_shows_its_reports_by_source_and_other_hotlines_by_name(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    do_file_report(hotline_b, source=ReportSource.PUBLIC, urls=[URL], comment="B's secret note")
    for source in (ReportSource.PUBLIC, ReportSource.PUBLIC, ReportSource.PARTNER):
        report = do_file_report(hotline_a, source=source, urls=[URL])
    reported_url = report.urls.get()
    html = Template("{% load intake_tags %}{% url_sources reported_url %}").render(
        Context({"reported_url": reported_url})
    )
    assert "3 reports point at this URL: Public form 2, Partner API 1." in html
    assert "Also reported to: Hotline B" in html
    assert "secret" not in html


def test_the_outsider_cannot_reach_the_url_it_was_linked_to(
    hotline_a: Organisation, hotline_b: Organisation, outsider: User, as_user: Any
) -> None:
    at_a = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=[URL]).urls.get()
    do_file_report(hotline_b, source=ReportSource.PUBLIC, urls=[URL])
    client = as_user(outsider)
    assert client.get(f"/app/urls/{at_a.code}/").status_code == 404
