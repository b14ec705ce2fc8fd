"""The loop back from the police in the statistics: acknowledged within 24 h, median wait."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation, User
from openhotline.network.models import PoliceReferral
from tests.stats.conftest import HOUR, make_url
from tests.stats.test_views import rows_of

pytestmark = pytest.mark.django_db

AsUser = Callable[[User], Client]


@pytest.fixture
def referrals(hotline_a: Organisation, hotline_b: Organisation) -> None:
    """A: acknowledged after 2 h, 10 h and 30 h, one never; B: one after 1 h."""
    waits = [2, 10, 30, None]
    for wait in waits:
        url = make_url(hotline_a, country="DK", verdict="baseline", referred=HOUR)
        if wait is not None:
            referral = PoliceReferral.objects.get(reported_url=url)
            referral.acknowledged_at = referral.created_at + wait * HOUR
            referral.save(update_fields=["acknowledged_at"])
    url = make_url(hotline_b, country="NL", verdict="baseline", referred=HOUR)
    PoliceReferral.objects.filter(reported_url=url).update(
        acknowledged_at=url.created_at + 2 * HOUR
    )


def test_the_share_acknowledged_within_24h_and_the_median_wait(
    referrals: None, analyst: User, outsider: User, as_user: AsUser
) -> None:
    [row] = rows_of(as_user(analyst).get("/app/stats/times/police_acknowledgement.csv"))
    assert row["Referrals made"] == "4" and row["Acknowledged"] == "3"
    assert row["Acknowledged within 24 h (fraction)"] == "0.5000"  # 2 of 4
    assert row["Median time to acknowledgement (seconds)"] == str(10 * 3600)
    page = as_user(analyst).get("/app/stats/times/").content.decode()
    assert "Police acknowledgement of referrals" in page
    # The other hotline's figures are its own.
    [other] = rows_of(as_user(outsider).get("/app/stats/times/police_acknowledgement.csv"))
    assert (
        other["Referrals made"] == "1" and other["Acknowledged within 24 h (fraction)"] == "1.0000"
    )
