"""The last two confirmations of a URL at once, in two processes: its verdict takes effect once.

Each confirmation looks whether the URL's other items are in force yet; with
both transactions open, each could see the other's item still waiting and
neither put the URL in force. ``do_refresh_url_verdict`` locks the
assessment first, so the second one to get the lock sees both confirmed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import do_classify_item, do_finish_url
from openhotline.assessment.models import UrlAssessment
from openhotline.celery import app
from openhotline.network.models import PoliceReferral, Route
from tests.assessment.conftest import items_of, make_page
from tests.network.conftest import record_hosting
from tests.support.racers import Racers, postgres_only

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), postgres_only]

PAGES = 4


@pytest.fixture(scope="module")
def racers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Racers]:
    with Racers(2, os.environ["OPENHOTLINE_DATA"]) as started:
        yield started


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set-up here queues crawls; nothing in this test consumes them.
    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)


def test_the_last_two_confirmations_at_once_put_the_url_in_force_once(
    racers: Racers, hotline_a: Organisation, analyst: User
) -> None:
    senior = do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 9")
    for n in range(PAGES):
        page = make_page(hotline_a, f"http://race{n}.test/", images=2, first_seed=700 + 10 * n)
        record_hosting(page, country="BR")
        statuses = [
            do_classify_item(hotline_a, item, "baseline", analyst=analyst, reported_url=page)
            for item in items_of(page)
        ]
        do_finish_url(page, analyst)
        got = racers.run_each(
            "tests.assessment.racepaths.confirm", [(s.pk, senior.pk) for s in statuses]
        )
        assert got == ["final", "final"]
        assert UrlAssessment.objects.get(reported_url=page).is_in_force(), n
        assert Route.objects.filter(reported_url=page).count() == 1
        assert PoliceReferral.objects.filter(reported_url=page).count() == 1
