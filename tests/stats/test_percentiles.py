"""Medians, 90th percentiles and within-N-days shares against figures worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openhotline.accounts.models import Organisation
from openhotline.stats.percentiles import contact_medians, percentile_cont, summarize
from openhotline.stats.scope import Scope
from tests.stats.conftest import HOUR, T0, make_contact, make_url

pytestmark = pytest.mark.django_db

H = 3600


def test_percentile_cont_interpolates_between_neighbours() -> None:
    # Positions p·(n−1): 0.5·3 = 1.5 → halfway 20..30; 0.9·3 = 2.7 → 30 + 0.7·10.
    assert percentile_cont([10, 20, 30, 40], 0.5) == 25
    assert percentile_cont([10, 20, 30, 40], 0.9) == pytest.approx(37)
    assert percentile_cont([7], 0.9) == 7
    assert percentile_cont([], 0.5) is None


@pytest.fixture
def removals(hotline_a: Organisation, hotline_b: Organisation) -> None:
    """Hotline A removed seven URLs after 2, 20, 30, 50, 70, 100 and 200 hours.

    Sorted, the median is the 4th (50 h); the 90th percentile sits at
    position 0.9·6 = 5.4, so 100 + 0.4·(200 − 100) = 140 h. Within a day: 2
    of 7; within three days (72 h): 5 of 7; within seven (168 h): 6 of 7.
    Hotline B's one URL (a thousand hours) must never count for A.
    """
    for hours in (200, 2, 70, 30, 100, 50, 20):
        make_url(hotline_a, country="NL", verdict="baseline", removed=hours * HOUR)
    make_url(hotline_b, country="NL", verdict="baseline", removed=1000 * HOUR)


def test_median_p90_and_within_days_of_removal_match_the_hand_computed_figures(
    removals: None, hotline_a: Organisation
) -> None:
    s = summarize(Scope((hotline_a.pk,)), ["removal_s"])["removal_s"]
    assert s.count == 7
    assert s.median == 50 * H
    assert s.p90 == pytest.approx(140 * H)
    assert s.within == {1: 2, 3: 5, 7: 6}
    assert s.share_within(3) == pytest.approx(5 / 7)


def test_an_even_count_takes_the_mean_of_the_middle_pair(hotline_a: Organisation) -> None:
    # Assessed after 1, 2, 4 and 8 hours: median (2 + 4) / 2 = 3 h;
    # p90 at 0.9·3 = 2.7 → 4 + 0.7·(8 − 4) = 6.8 h.
    for hours in (8, 1, 4, 2):
        make_url(hotline_a, verdict="not_illegal", assessed=hours * HOUR)
    s = summarize(Scope((hotline_a.pk,)), ["assessed_s"])["assessed_s"]
    assert (s.count, s.median) == (4, 3 * H)
    assert s.p90 == pytest.approx(6.8 * H)


def test_every_stage_is_summarised_at_once_and_unreached_stages_are_empty(
    hotline_a: Organisation,
) -> None:
    make_url(hotline_a, verdict="baseline", assessed=HOUR, referred=3 * HOUR, noticed=5 * HOUR)
    make_url(hotline_a, verdict="baseline", assessed=3 * HOUR, referred=5 * HOUR)
    s = summarize(Scope((hotline_a.pk,)), ["assessed_s", "referral_s", "notice_s", "removal_s"])
    assert (s["assessed_s"].count, s["assessed_s"].median) == (2, 2 * H)
    assert (s["referral_s"].count, s["referral_s"].median) == (2, 4 * H)
    assert (s["notice_s"].count, s["notice_s"].median, s["notice_s"].p90) == (1, 5 * H, 5 * H)
    assert s["removal_s"] == type(s["removal_s"])(0, None, None, {1: 0, 3: 0, 7: 0})
    assert s["removal_s"].share_within(1) is None


def test_the_period_and_country_filters_select_the_urls(hotline_a: Organisation) -> None:
    make_url(hotline_a, at=T0, country="NL", verdict="baseline", removed=10 * HOUR)
    make_url(
        hotline_a, at=T0 + timedelta(days=40), country="NL", verdict="baseline", removed=20 * HOUR
    )
    make_url(hotline_a, at=T0, country="US", verdict="baseline", removed=30 * HOUR)
    april = Scope((hotline_a.pk,), T0, T0 + timedelta(days=30))
    assert summarize(april, ["removal_s"])["removal_s"].median == 20 * H  # 10 h and 30 h
    dutch = Scope((hotline_a.pk,), country="NL")
    assert summarize(dutch, ["removal_s"])["removal_s"].median == 15 * H  # 10 h and 20 h
    both = Scope((hotline_a.pk,), T0, T0 + timedelta(days=30), "NL")
    assert summarize(both, ["removal_s"])["removal_s"].median == 10 * H
    assert summarize(Scope(()), ["removal_s"])["removal_s"].count == 0


def test_the_median_per_hoster_counts_from_the_first_notice(hotline_a: Organisation) -> None:
    slow, quick, once = (make_contact(hotline_a, n) for n in ("Slow Host", "Quick Host", "Once"))
    # Removed 10, 30 and 50 hours after the notice (notices 2 h after the report): median 30 h.
    for after in (50, 10, 30):
        make_url(hotline_a, contact=slow, noticed=2 * HOUR, removed=(2 + after) * HOUR)
    # 5 and 6 hours: median 5.5 h.
    for after in (6, 5):
        make_url(hotline_a, contact=quick, noticed=HOUR, removed=(1 + after) * HOUR)
    make_url(hotline_a, contact=once, noticed=HOUR, removed=9 * HOUR)
    make_url(hotline_a, contact=once, noticed=HOUR)  # not removed: not counted
    medians = contact_medians(Scope((hotline_a.pk,)), min_count=2)
    assert medians == {slow.pk: (3, 30.0 * H), quick.pk: (2, 5.5 * H)}
    assert contact_medians(Scope((hotline_a.pk,)), min_count=2, exclude=[slow.pk]) == {
        quick.pk: (2, 5.5 * H)
    }
