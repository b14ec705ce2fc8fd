"""Two officers answer the same referral at once, in two processes: each answer is kept once.

The actions lock the referral row first, so the second officer sees the
first one's acknowledgement or decision and writes nothing (no second
timeline entry, no decision overwritten).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.network.models import PoliceReferral
from openhotline.reports.models import TimelineEntry
from tests.network.conftest import AssessFn, page_with_media, record_hosting
from tests.support.racers import Racers, postgres_only

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), postgres_only]


@pytest.fixture(scope="module")
def racers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Racers]:
    with Racers(2, os.environ["OPENHOTLINE_DATA"]) as started:
        yield started


def test_two_officers_answering_at_once_are_recorded_once(
    racers: Racers,
    hotline_a: Organisation,
    analyst: User,
    police: User,
    police_org: Organisation,
    assess: AssessFn,
) -> None:
    other = do_create_user("olaf", police_org, Role.POLICE_OFFICER, password="correct horse 81")
    page = page_with_media(hotline_a, "http://race.test/referral", images=1)
    record_hosting(page, country="DK")
    assess(page, analyst)
    referral = PoliceReferral.objects.get(reported_url=page)

    acks = racers.run_each(
        "tests.network.racepaths.acknowledge", [(referral.pk, police.pk), (referral.pk, other.pk)]
    )
    assert sorted(acks) == [False, True]
    acknowledged = TimelineEntry.objects.filter(kind="network.referral_acknowledged")
    assert acknowledged.count() == 1

    decided = racers.run_each(
        "tests.network.racepaths.decide",
        [(referral.pk, police.pk, "accepted"), (referral.pk, other.pk, "declined")],
    )
    assert sorted(decided)[1] == "refused" and "refused" in decided
    referral.refresh_from_db()
    winner = next(d for d in decided if d != "refused")
    assert referral.decision == winner
    kinds = set(TimelineEntry.objects.values_list("kind", flat=True))
    assert (f"network.referral_{winner}" in kinds) and len(
        [k for k in kinds if k in ("network.referral_accepted", "network.referral_declined")]
    ) == 1
