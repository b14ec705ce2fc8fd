"""The law-enforcement portal: police see their country's referrals, INTERPOL every item."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.classification import do_classify_item
from openhotline.audit.models import AuditEvent
from openhotline.network.models import LeaItem, PoliceReferral
from tests.network.conftest import AssessFn, media_of, page_with_media, record_hosting


@pytest.fixture
def world(
    hotline_a: Organisation,
    hotline_b: Organisation,
    analyst: User,
    analyst_b: User,
    assess: AssessFn,
) -> dict[str, Any]:
    """A's page hosted in DK (baseline), B's hosted in NL (national), A's in BR (virtual)."""
    dk = page_with_media(hotline_a, "http://gallery.test/dk", images=2, first_seed=1)
    record_hosting(dk, country="DK")
    assess(dk, analyst)
    nl = page_with_media(hotline_b, "http://other.test/nl", images=1, first_seed=10)
    record_hosting(nl, country="NL")
    assess(nl, analyst_b, verdict="national")
    br = page_with_media(hotline_a, "http://far.test/br", images=1, first_seed=20)
    record_hosting(br, country="BR")
    assess(br, analyst, verdict="national", is_virtual=True)
    return {"dk": dk, "nl": nl, "br": br}


def test_a_police_officer_sees_the_referrals_for_their_country_only(
    world: dict[str, Any], police: User, police_nl: User, as_user: Any
) -> None:
    dk_referral = PoliceReferral.objects.get(reported_url=world["dk"])
    nl_referral = PoliceReferral.objects.get(reported_url=world["nl"])
    danish = as_user(police).get("/lea/referrals/").content.decode()
    assert dk_referral.code in danish and nl_referral.code not in danish
    assert as_user(police).get(f"/lea/referrals/{dk_referral.code}/").status_code == 200
    assert as_user(police).get(f"/lea/referrals/{nl_referral.code}/").status_code == 404
    dutch = as_user(police_nl).get("/lea/referrals/").content.decode()
    assert nl_referral.code in dutch and dk_referral.code not in dutch


def test_police_items_are_those_of_their_referrals(
    world: dict[str, Any], police: User, as_user: Any
) -> None:
    page = as_user(police).get("/lea/items/").content.decode()
    for item in media_of(world["dk"]):
        assert item.code in page
    for other in (*media_of(world["nl"]), *media_of(world["br"])):
        assert other.code not in page
    nl_item = media_of(world["nl"])[0]
    assert as_user(police).get(f"/lea/media/{nl_item.code}/thumb.jpg").status_code == 404


def test_interpol_sees_every_illegal_item_with_filters_and_counts(
    world: dict[str, Any], interpol: User, as_user: Any
) -> None:
    client = as_user(interpol)
    page = client.get("/lea/items/")
    body = page.content.decode()
    every = [*media_of(world["dk"]), *media_of(world["nl"]), *media_of(world["br"])]
    assert all(item.code in body for item in every)
    assert page.context["counts"]["items"] == 4
    assert {r["verdict"]: r["n"] for r in page.context["counts"]["by_verdict"]} == {
        "baseline": 2,
        "national": 2,
    }
    only_b = client.get("/lea/items/?hotline=hotline-b").context["counts"]["items"]
    assert only_b == 1
    br = client.get("/lea/items/?country=BR")
    assert br.context["counts"]["items"] == 1
    assert media_of(world["br"])[0].code in br.content.decode()
    national = client.get("/lea/items/?verdict=national").context["counts"]["items"]
    assert national == 2
    referrals = client.get("/lea/referrals/").content.decode()
    assert PoliceReferral.objects.get(reported_url=world["br"]).code in referrals
    assert PoliceReferral.objects.get(reported_url=world["dk"]).code not in referrals


def test_the_items_list_takes_a_fixed_number_of_queries(
    world: dict[str, Any], interpol: User, as_user: Any, analyst: User, hotline_a: Organisation
) -> None:
    client = as_user(interpol)
    with CaptureQueriesContext(connection) as few:
        client.get("/lea/items/")
    more = page_with_media(hotline_a, "http://gallery.test/more", images=3, first_seed=40)
    for item in media_of(more):
        do_classify_item(hotline_a, item, "baseline", analyst=analyst, new_material=False)
    from openhotline.assessment.models import ItemStatus
    from openhotline.network.actions.lea_items import do_sync_lea_item

    for status in ItemStatus.objects.filter(media_item__in=media_of(more)):
        do_sync_lea_item(status)
    with CaptureQueriesContext(connection) as many:
        client.get("/lea/items/")
    assert len(many) == len(few)


def test_media_are_blurred_and_a_reveal_is_audited(
    world: dict[str, Any], interpol: User, as_user: Any
) -> None:
    client = as_user(interpol)
    item = media_of(world["dk"])[0]
    thumb = client.get(f"/lea/media/{item.code}/thumb.jpg")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert thumb["Cache-Control"] == "no-store, private"
    assert AuditEvent.objects.filter(action="media.viewed", object_id=item.code).exists()
    assert client.post(f"/lea/media/{item.code}/reveal", {"step": "blurred"}).status_code == 400
    revealed = client.post(f"/lea/media/{item.code}/reveal", {"step": "grey"}).json()
    assert AuditEvent.objects.filter(action="media.revealed", object_id=item.code).exists()
    assert client.get(revealed["url"]).status_code == 200
    # The signed link is the officer's own.
    assert as_user(interpol).get(revealed["url"]).status_code == 200
    other_item = media_of(world["nl"])[0]
    assert client.get(revealed["url"].replace(item.code, other_item.code)).status_code == 404


def test_withdrawn_classifications_leave_the_portal(
    world: dict[str, Any], interpol: User, analyst: User, hotline_a: Organisation, as_user: Any
) -> None:
    item = media_of(world["br"])[0]
    status = do_classify_item(hotline_a, item, "not_illegal", analyst=analyst, new_material=False)
    from openhotline.network.actions.lea_items import do_sync_lea_item

    do_sync_lea_item(status)
    assert not LeaItem.objects.get(media_item=item).in_force
    assert item.code not in as_user(interpol).get("/lea/items/").content.decode()
    assert as_user(interpol).get(f"/lea/media/{item.code}/thumb.jpg").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/lea/", "/lea/referrals/", "/lea/items/", "/lea/packages/"],
)
def test_hotline_staff_and_providers_are_not_law_enforcement(
    world: dict[str, Any],
    analyst: User,
    outsider: User,
    isp_operator: User,
    as_user: Any,
    path: str,
) -> None:
    for user in (analyst, outsider, isp_operator):
        assert as_user(user).get(path).status_code == 404
    item = media_of(world["dk"])[0]
    assert as_user(analyst).get(f"/lea/media/{item.code}/thumb.jpg").status_code == 404
    assert as_user(analyst).post("/lea/packages/new/").status_code == 404


def test_the_portal_needs_a_login(client: Any) -> None:
    response = client.get("/lea/items/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
