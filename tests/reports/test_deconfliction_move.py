"""DeconflictionLink moved from intake to reports on its old table: the links survive."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from openhotline.accounts.models import Organisation
from openhotline.reports.models import DeconflictionLink, ReportedUrl

BEFORE = [("intake", "0001_initial"), ("reports", "0003_one_open_url_per_hotline")]


def url_at(hotline: Organisation) -> ReportedUrl:
    return ReportedUrl.objects.create(
        hotline=hotline, url="http://gallery.test/a", normalized_url="http://gallery.test/a"
    )


@pytest.mark.django_db(transaction=True)
def test_links_made_before_the_move_are_the_reports_apps_after_it(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    mine, theirs = url_at(hotline_a), url_at(hotline_b)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    with pytest.raises(LookupError):
        old_apps.get_model("reports", "DeconflictionLink")
    old_link = old_apps.get_model("intake", "DeconflictionLink")
    old_link.objects.create(reported_url_id=mine.pk, other_url_id=theirs.pk)
    old_link.objects.create(reported_url_id=theirs.pk, other_url_id=mine.pk)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert set(DeconflictionLink.objects.values_list("reported_url", "other_url")) == {
        (mine.pk, theirs.pk),
        (theirs.pk, mine.pk),
    }
    assert [link.other_url for link in mine.deconfliction_links.all()] == [theirs]
