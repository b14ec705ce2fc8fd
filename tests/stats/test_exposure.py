"""Exposure (items never shown unblurred, known items apart) and the system's own time
after a verdict (to the police referral, to the first notice without the hold)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import UrlAssessment
from openhotline.matching.actions.hash_sets import do_create_set, do_match_item
from openhotline.matching.actions.importing import do_import
from openhotline.matching.models import Trust
from openhotline.network.models import PoliceReferral
from openhotline.reports.models import ReportedUrl
from openhotline.stats.dashboards import DASHBOARDS
from openhotline.stats.models import ItemFact, UrlFact
from openhotline.stats.rebuild import rebuild_all
from openhotline.stats.scope import Scope
from openhotline.stats.transparency import year_figures
from openhotline.takedown.models import TakedownCase
from tests.assessment.conftest import items_of, make_page
from tests.stats.conftest import HOUR, T0, make_url
from tests.stats.test_views import rows_of

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
MINUTE = timedelta(minutes=1)


def test_reveals_and_known_items_make_the_exposure_figures(
    hotline_a: Organisation,
    analyst: User,
    as_user: Callable[[User], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    page = make_page(hotline_a, "http://exposure.test/gallery", images=3, first_seed=300)
    known, shown, unseen = items_of(page)
    # A trusted hash set holds the first item: matching pre-classifies it, nobody looks.
    hash_set = do_create_set("Trusted list", trust=Trust.TRUSTED, default_verdict="baseline")
    with django_capture_on_commit_callbacks(execute=True):
        do_import(
            hash_set,
            io.BytesIO(f"sha256\n{known.sha256}\n".encode()),
            file_name="list.csv",
            format="csv",
        )
    do_match_item(known)
    client = as_user(analyst)
    client.get(f"/app/review/{page.code}/")
    # The analyst reveals one item (grey), then classifies the two new ones.
    reveal = f"/app/review/{page.code}/reveal/{shown.code}"
    assert client.post(reveal, {"step": "grey"}, headers=HX).status_code == 200
    for item in (shown, unseen):
        response = client.post(
            f"/app/review/{page.code}/classify",
            {"items": item.code, "verdict": "national"},
            headers=HX,
        )
        assert response.status_code == 200
    facts = {f.media_item_id: f for f in ItemFact.objects.filter(hotline=hotline_a)}
    assert {k: (f.known, f.revealed) for k, f in facts.items()} == {
        known.pk: (True, False),
        shown.pk: (False, True),
        unseen.pk: (False, False),
    }
    rows = {r["Items"]: r for r in rows_of(client.get("/app/stats/exposure/exposure.csv"))}
    assert rows["All items"]["Classified"] == "3"
    assert rows["All items"]["Never shown unblurred"] == "2"
    assert rows["All items"]["Share never shown (fraction)"] == "0.6667"
    assert rows["Known items (trusted hash-set match)"]["Share never shown (fraction)"] == "1.0000"
    assert rows["New items"]["Share never shown (fraction)"] == "0.5000"
    # A reveal of the known item later (a senior checking the match) counts too.
    client.post(f"/app/review/{page.code}/reveal/{known.code}", {"step": "grey"}, headers=HX)
    assert ItemFact.objects.get(hotline=hotline_a, media_item=known).revealed
    live = list(ItemFact.objects.order_by("pk").values())
    rebuild_all()
    assert list(ItemFact.objects.order_by("pk").values()) == live


def test_a_blurred_thumbnail_is_not_a_reveal(
    hotline_a: Organisation, analyst: User, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://blurred.test/", images=1, first_seed=320)
    [item] = items_of(page)
    client = as_user(analyst)
    body = client.get(f"/app/review/{page.code}/").content.decode()
    assert f"/app/media/{item.code}/thumb.jpg" in body
    assert client.get(f"/app/media/{item.code}/thumb.jpg").status_code == 200
    client.post(
        f"/app/review/{page.code}/classify", {"items": item.code, "verdict": "national"}, headers=HX
    )
    assert not ItemFact.objects.get(media_item=item).revealed


def _verdict_then(
    hotline: Organisation,
    *,
    in_force: timedelta,
    referral: timedelta | None,
    hold_until: timedelta | None,
    notice: timedelta | None,
) -> ReportedUrl:
    """A URL reported at T0 whose verdict took effect ``in_force`` later, then the rest."""
    url = make_url(hotline, at=T0, country="DK", verdict="baseline", assessed=in_force)
    UrlAssessment.objects.filter(reported_url=url).update(in_force_at=T0 + in_force)
    # update() goes around the receivers; the save of the referral below refreshes.
    if referral is not None:
        PoliceReferral.objects.create(
            reported_url=url,
            hotline=hotline,
            country="DK",
            channel="national",
            created_at=T0 + referral,
        )
    TakedownCase.objects.create(
        reported_url=url,
        hotline=hotline,
        state="notified" if notice is not None else "waiting",
        not_before=T0 + hold_until if hold_until is not None else None,
        first_notice_at=T0 + notice if notice is not None else None,
        next_check_at=T0,
    )
    return url


def test_system_time_leaves_out_people_and_the_police_first_hold(
    hotline_a: Organisation, analyst: User, as_user: Callable[[User], Client]
) -> None:
    # Verdict 5 h after the report (people); referral 1 min later; a hold of 2 h
    # from the verdict; the notice went 3 min after the hold ended.
    held = _verdict_then(
        hotline_a,
        in_force=5 * HOUR,
        referral=5 * HOUR + MINUTE,
        hold_until=7 * HOUR,
        notice=7 * HOUR + 3 * MINUTE,
    )
    # No hold: the notice 10 min after the verdict, the referral after 2 min.
    free = _verdict_then(
        hotline_a,
        in_force=HOUR,
        referral=HOUR + 2 * MINUTE,
        hold_until=None,
        notice=HOUR + 10 * MINUTE,
    )
    fact = UrlFact.objects.get(reported_url=held)
    assert (fact.referral_system_s, fact.notice_hold_s, fact.notice_system_s) == (60, 7200, 180)
    assert fact.notice_s == 7 * 3600 + 180
    fact = UrlFact.objects.get(reported_url=free)
    assert (fact.referral_system_s, fact.notice_hold_s, fact.notice_system_s) == (120, None, 600)
    rows = {
        r["From"]: r for r in rows_of(as_user(analyst).get("/app/stats/exposure/system_times.csv"))
    }
    notice = rows["Verdict in force to first notice, without the police-first hold"]
    assert notice["URLs"] == "2" and notice["Median (seconds)"] == "390"
    hold = rows["Police-first hold (policy, not system time)"]
    assert hold["URLs"] == "1" and hold["Median (seconds)"] == "7200"
    assert rows["Verdict in force to police referral"]["Median (seconds)"] == "90"
    live = list(UrlFact.objects.order_by("pk").values())
    rebuild_all()
    assert list(UrlFact.objects.order_by("pk").values()) == live


def test_the_outsider_sees_none_of_the_exposure_figures(
    hotline_a: Organisation, outsider: User, as_user: Callable[[User], Client]
) -> None:
    _verdict_then(hotline_a, in_force=HOUR, referral=HOUR, hold_until=None, notice=2 * HOUR)
    client = as_user(outsider)
    rows = rows_of(client.get("/app/stats/exposure/system_times.csv"))
    assert {r["URLs"] for r in rows} == {"0"}
    assert client.get("/app/stats/exposure/", {"hotline": "hotline-a"}).status_code == 404


def test_every_exposure_table_renders(hotline_a: Organisation) -> None:
    _verdict_then(hotline_a, in_force=HOUR, referral=HOUR, hold_until=None, notice=2 * HOUR)
    tables = DASHBOARDS["exposure"].tables(Scope())
    assert [t.slug for t in tables] == ["exposure", "system_times"]


def test_the_transparency_report_has_removal_and_exposure_shares(
    hotline_a: Organisation,
) -> None:
    for hours in (10, 40, 100, 200):
        make_url(hotline_a, at=T0, country="DK", verdict="baseline", removed=hours * HOUR)
    figures = year_figures(2025, (hotline_a.pk,))
    assert figures.removed[1] == 4
    assert (figures.within_1_day[1], figures.within_3_days[1], figures.within_7_days[1]) == (
        1,
        2,
        3,
    )
    assert figures.items_classified == [0, 0, 0, 0, 0]
