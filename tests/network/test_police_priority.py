"""Referrals ranked by the police organisation's explainable priority (AviaTor)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.evidence.models import MediaItem
from openhotline.matching.models import HashEntry, HashSet, Match
from openhotline.network.actions.police_settings import do_set_agency_admin
from openhotline.network.models import PolicePriorityRule, PoliceReferral
from openhotline.network.police_priority import DEFAULT_RULES, rank
from tests.network.conftest import AssessFn, media_of, page_with_media, record_hosting
from tests.network.test_api import key_for


def matched(item: MediaItem, series: str = "") -> Match:
    """The item found in an imported hash set (as matching records it)."""
    hash_set = HashSet.objects.create(name=f"set for {item.code}")
    entry = HashEntry.objects.create(
        hash_set=hash_set,
        key=f"sha256:{item.sha256}",
        sha256=item.sha256,
        metadata={"series": series} if series else {},
    )
    return Match.objects.create(
        media_item=item, hash_set=hash_set, entry=entry, kind="sha256", distance=0
    )


@pytest.fixture
def referrals(hotline_a: Organisation, analyst: User, assess: AssessFn) -> dict[str, Any]:
    """Two Danish referrals.

    ``young``: one new item, infant, commercial, referred three days ago.
    ``series``: three known items, one of them from the series "Lighthouse".
    """
    young = page_with_media(hotline_a, "http://gallery.test/young", images=1, first_seed=1)
    record_hosting(young, country="DK")
    assess(young, analyst, age_group="infant", is_commercial=True)
    series = page_with_media(hotline_a, "http://gallery.test/series", images=3, first_seed=5)
    record_hosting(series, country="DK")
    assess(series, analyst, age_group="pubescent")
    for n, item in enumerate(media_of(series)):
        matched(item, "Lighthouse" if n == 0 else "")
    first = PoliceReferral.objects.get(reported_url=young)
    PoliceReferral.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(days=3, hours=1)
    )
    return {
        "young": PoliceReferral.objects.get(pk=first.pk),
        "series": PoliceReferral.objects.get(reported_url=series),
    }


def reasons(row: Any) -> dict[str, int]:
    return {str(line["kind"]): int(line["points"]) for line in row.explanation}


def test_referrals_are_ranked_by_default_rules_and_each_says_why(
    referrals: dict[str, Any], police: User, as_user: Any
) -> None:
    page = as_user(police).get("/lea/referrals/")
    rows = list(page.context["page"])
    assert [r.referral.code for r in rows] == [referrals["young"].code, referrals["series"].code]
    young, series = rows
    assert reasons(young) == {
        "new_material": 40,
        "youngest_age": 40,  # infant: value 2 × 20
        "commercial": 20,
        "volume": 1,
        "own_country": 10,
        "own_jurisdiction": 10,
        "referral_age": 6,  # 3 days × 2
    }
    assert young.score == 127
    # Every item is known and not flagged: no new material, no series.
    assert reasons(series) == {"volume": 3, "own_country": 10, "own_jurisdiction": 10}
    body = page.content.decode()
    assert "New material, never seen in any hash set" in body and "<strong>127</strong>" in body
    detail = as_user(police).get(f"/lea/referrals/{referrals['young'].code}/").content.decode()
    assert "Priority 127" in detail and "1 × 20 = <strong>20</strong>" in detail


def test_an_own_set_entry_of_the_item_itself_does_not_make_it_known(
    referrals: dict[str, Any], police_org: Organisation
) -> None:
    item = media_of(referrals["young"].reported_url)[0]
    # The hotline's own set was fed by its classification (matching.ownset).
    own = HashSet.objects.get(owner=referrals["young"].hotline, is_own=True)
    entry = HashEntry.objects.get(hash_set=own, source_media=item)
    Match.objects.create(media_item=item, hash_set=own, entry=entry, kind="sha256", distance=0)
    [row] = rank([referrals["young"]], police_org)
    assert "new_material" in reasons(row)


def test_the_agency_admin_edits_weights_and_flags_series_and_the_ranking_follows(
    referrals: dict[str, Any], police: User, police_org: Organisation, as_user: Any
) -> None:
    client = as_user(police)
    # An officer who is not the agency's admin reads the rules but cannot save them.
    assert client.get("/lea/priority/").status_code == 200
    # The whole table, as the page posts it: three rules on, the rest off.
    form: dict[str, Any] = {f"{rule.kind}-weight": rule.weight for rule in DEFAULT_RULES}
    form.update({f"{kind}-enabled": "on" for kind in ("volume", "own_country", "flagged_series")})
    form.update({"volume-cap": 50, "new_material-weight": 0, "series": "lighthouse\n"})
    assert client.post("/lea/priority/save/", form).status_code == 404
    assert not PolicePriorityRule.objects.filter(organisation=police_org).exists()

    do_set_agency_admin(police, True, organisation=police_org)
    assert client.post("/lea/priority/save/", form).status_code == 302
    saved = {r.kind: r for r in PolicePriorityRule.objects.filter(organisation=police_org)}
    assert saved["new_material"].weight == 0 and saved["flagged_series"].weight == 50
    assert not saved["referral_age"].enabled
    event = AuditEvent.objects.filter(action="lea.priority_rules_changed").get()
    assert event.detail["flagged_series"] == ["lighthouse"]

    rows = list(client.get("/lea/referrals/").context["page"])
    assert [r.referral.code for r in rows] == [referrals["series"].code, referrals["young"].code]
    top = rows[0]
    assert reasons(top) == {"volume": 3, "own_country": 10, "flagged_series": 50}
    line = next(x for x in top.explanation if x["kind"] == "flagged_series")
    assert line["series"] == ["Lighthouse"]  # the series as the hash set names it


def test_the_api_gives_the_same_ranking_with_reasons(
    referrals: dict[str, Any], police_org: Organisation, client: Client
) -> None:
    body = client.get("/api/v1/lea/referrals/ranked", headers=key_for(police_org)).json()
    assert [r["code"] for r in body] == [referrals["young"].code, referrals["series"].code]
    assert body[0]["score"] == 127
    assert {r["kind"]: r["points"] for r in body[0]["reasons"]}["youngest_age"] == 40
    assert body[0]["acknowledged_at"] is None and body[0]["decision"] == ""


def test_ranking_takes_the_same_queries_for_any_number_of_referrals(
    referrals: dict[str, Any], police_org: Organisation
) -> None:
    both = list(PoliceReferral.objects.select_related("reported_url", "hotline"))
    with CaptureQueriesContext(connection) as one:
        rank(both[:1], police_org)
    with CaptureQueriesContext(connection) as two:
        rank(both, police_org)
    assert len(one) == len(two) == 5


def test_outsiders_get_not_found(
    referrals: dict[str, Any],
    police_nl: User,
    analyst: User,
    hotline_b: Organisation,
    as_user: Any,
    client: Client,
) -> None:
    code = referrals["young"].code
    dutch = as_user(police_nl)
    assert code not in dutch.get("/lea/referrals/").content.decode()
    assert dutch.get(f"/lea/referrals/{code}/").status_code == 404
    # Hotline staff have no seat in the portal at all.
    for path in ("/lea/referrals/", "/lea/priority/", "/lea/profile/"):
        assert as_user(analyst).get(path).status_code == 404
    assert as_user(analyst).post("/lea/priority/save/", {}).status_code == 404
    # Another organisation's key: not a police key at all, or another country's.
    assert client.get("/api/v1/lea/referrals/ranked", headers=key_for(hotline_b)).status_code == 404
    police_nl_org = police_nl.memberships.get().organisation
    other = client.get("/api/v1/lea/referrals/ranked", headers=key_for(police_nl_org)).json()
    assert other == []
