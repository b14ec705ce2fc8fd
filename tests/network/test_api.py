"""``GET /api/v1/lea/items?since=…``: the portal's items for automated ingestion."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.actions import do_create_api_key
from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.classification import do_classify_item
from openhotline.audit.models import AuditEvent
from openhotline.network.actions.lea_items import do_sync_lea_item
from openhotline.network.models import PoliceReferral
from tests.network.conftest import AssessFn, media_of, page_with_media, record_hosting


def key_for(org: Organisation) -> dict[str, str]:
    _, secret = do_create_api_key(org, "ingest", "read")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def pages(hotline_a: Organisation, analyst: User, assess: AssessFn) -> dict[str, Any]:
    dk = page_with_media(hotline_a, "http://gallery.test/dk", images=2)
    record_hosting(dk, country="DK")
    assess(dk, analyst)
    br = page_with_media(hotline_a, "http://far.test/br", images=1, first_seed=30)
    record_hosting(br, country="BR")
    assess(br, analyst, verdict="national")
    return {"dk": dk, "br": br}


def test_interpol_gets_every_item_and_then_only_what_changed(
    pages: dict[str, Any],
    interpol_org: Organisation,
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    client: Client,
) -> None:
    headers = key_for(interpol_org)
    first = client.get("/api/v1/lea/items", headers=headers)
    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 3 and not body["has_more"]
    item = media_of(pages["dk"])[0]
    record = next(i for i in body["items"] if i["media_code"] == item.code)
    assert record["sha1"] == item.sha1.upper() and record["md5"] == item.md5.upper()
    assert record["vics_category"] == 1 and record["in_force"] is True
    assert record["source_urls"] == ["http://gallery.test/dk/img0.png"]
    assert record["hosting_country"] == "DK"

    since = body["next_since"]
    assert client.get("/api/v1/lea/items", {"since": since}, headers=headers).json()["items"] == []
    later = page_with_media(hotline_a, "http://gallery.test/later", images=1, first_seed=60)
    record_hosting(later, country="DK")
    assess(later, analyst)
    fresh = client.get("/api/v1/lea/items", {"since": since}, headers=headers).json()["items"]
    assert [i["media_code"] for i in fresh] == [media_of(later)[0].code]

    withdrawn = media_of(pages["br"])[0]
    status = do_classify_item(
        hotline_a, withdrawn, "not_illegal", analyst=analyst, new_material=False
    )
    do_sync_lea_item(status)
    changed = client.get(
        "/api/v1/lea/items", {"since": fresh[0]["updated_at"]}, headers=headers
    ).json()
    assert [(i["media_code"], i["in_force"]) for i in changed["items"]] == [(withdrawn.code, False)]
    assert AuditEvent.objects.filter(action="lea.api_items").count() == 4  # one per call


def test_pages_never_split_a_moment(
    pages: dict[str, Any], interpol_org: Organisation, client: Client, settings: Any
) -> None:
    from openhotline.network.models import LeaItem

    LeaItem.objects.update(updated_at=LeaItem.objects.first().updated_at)  # type: ignore[union-attr]
    settings.OPENHOTLINE_LEA_API_PAGE = 1
    body = client.get("/api/v1/lea/items", headers=key_for(interpol_org)).json()
    assert len(body["items"]) == 3 and not body["has_more"]


def test_police_keys_get_their_countrys_items_and_referrals(
    pages: dict[str, Any], police_org: Organisation, client: Client
) -> None:
    headers = key_for(police_org)
    items = client.get("/api/v1/lea/items", headers=headers).json()["items"]
    assert {i["media_code"] for i in items} == {m.code for m in media_of(pages["dk"])}
    referrals = client.get("/api/v1/lea/referrals", headers=headers).json()
    assert [r["code"] for r in referrals] == [
        PoliceReferral.objects.get(reported_url=pages["dk"]).code
    ]


def test_media_download_is_audited_and_limited_to_the_keys_view(
    pages: dict[str, Any], police_org: Organisation, client: Client
) -> None:
    headers = key_for(police_org)
    item = media_of(pages["dk"])[0]
    response = client.get(f"/api/v1/lea/items/{item.code}/media", headers=headers)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == item.sha256
    event = AuditEvent.objects.get(action="media.downloaded", object_id=item.code)
    assert event.organisation == police_org
    foreign = media_of(pages["br"])[0]
    assert client.get(f"/api/v1/lea/items/{foreign.code}/media", headers=headers).status_code == 404


def test_other_keys_are_refused(
    pages: dict[str, Any], hotline_a: Organisation, isp_org: Organisation, client: Client
) -> None:
    item = media_of(pages["dk"])[0]
    for org in (hotline_a, isp_org):
        headers = key_for(org)
        assert client.get("/api/v1/lea/items", headers=headers).status_code == 404
        assert client.get("/api/v1/lea/referrals", headers=headers).status_code == 404
        assert (
            client.get(f"/api/v1/lea/items/{item.code}/media", headers=headers).status_code == 404
        )
    assert client.get("/api/v1/lea/items").status_code == 401
