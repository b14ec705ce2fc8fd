from __future__ import annotations

import json

import pytest
from django.test import Client

from openhotline.accounts.actions import (
    do_create_api_key,
    do_create_organisation,
    do_revoke_api_key,
)
from openhotline.accounts.models import Organisation, User
from openhotline.blocking.actions.entries import do_approve_delisting, do_propose_delisting
from openhotline.blocking.actions.publishing import do_publish
from openhotline.blocking.models import BlocklistEntry, FeedFetch

pytestmark = pytest.mark.django_db

FEED = "/feed/v1/blocklist"


@pytest.fixture
def isp_key(isp_org: Organisation) -> str:
    return do_create_api_key(isp_org, "resolvers", "read")[1]


@pytest.fixture
def live_list(published) -> None:
    published(urls=["http://bad.test/a"], domains=["whole.test"])


def fetch(path: str, key: str | None = None, **headers: str):
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return Client().get(path, headers=headers)


@pytest.mark.parametrize("fmt", ["rpz", "hosts", "unbound", "dnsmasq", "csv", "json", "squid"])
def test_a_provider_fetches_the_list_of_its_country(
    live_list: None, isp_key: str, isp_org: Organisation, fmt: str
) -> None:
    response = fetch(f"{FEED}.{fmt}", isp_key)
    assert response.status_code == 200
    # Squid's patterns escape dots: read them unescaped.
    body = b"".join(response.streaming_content).decode().replace("\\", "")
    assert "whole.test" in body
    # The URL entry reaches the URL-capable formats only.
    assert ("bad.test/a" in body) == (fmt in ("csv", "json", "squid"))
    assert response["ETag"].startswith('"hotline-a-1-')
    assert response["X-Blocklist-Version"] == "1"
    logged = FeedFetch.objects.get()
    assert (logged.isp, logged.format, logged.serial, logged.status) == (isp_org, fmt, 1, 200)


def test_if_none_match_answers_304_until_a_new_version(
    hotline_a: Organisation, senior: User, senior2: User, live_list: None, isp_key: str
) -> None:
    first = fetch(f"{FEED}.rpz", isp_key)
    same = fetch(f"{FEED}.rpz", isp_key, If_None_Match=first["ETag"])
    assert same.status_code == 304 and same.content == b""
    entry = BlocklistEntry.objects.get(host="bad.test")
    do_propose_delisting(entry, reason="removed", actor=senior)
    do_approve_delisting(entry, actor=senior2)
    do_publish(hotline_a, actor=senior)
    newer = fetch(f"{FEED}.rpz", isp_key, If_None_Match=first["ETag"])
    assert newer.status_code == 200 and newer["ETag"] != first["ETag"]
    assert [f.status for f in FeedFetch.objects.order_by("created_at")] == [200, 304, 200]


def test_since_gives_the_entries_added_and_removed(
    hotline_a: Organisation, senior: User, senior2: User, published, isp_key: str
) -> None:
    published(urls=["http://bad.test/a"])
    published(urls=["http://new.test/b"])
    entry = BlocklistEntry.objects.get(host="bad.test")
    do_propose_delisting(entry, reason="removed", actor=senior)
    do_approve_delisting(entry, actor=senior2)
    do_publish(hotline_a, actor=senior)
    document = json.loads(fetch(f"{FEED}.json?since=1", isp_key).content)
    assert (document["since"], document["version"]) == (1, 3)
    assert [e["value"] for e in document["added"]] == ["http://new.test/b"]
    assert [e["value"] for e in document["removed"]] == ["http://bad.test/a"]
    text = fetch(f"{FEED}.csv?since=2", isp_key).content.decode()
    assert text.splitlines()[1:] == [f"removed,url,http://bad.test/a,bad.test,{entry.code}"]
    assert fetch(f"{FEED}.rpz?since=1", isp_key).status_code == 400
    assert fetch(f"{FEED}.json?since=9", isp_key).status_code == 400
    assert FeedFetch.objects.filter(since=1).count() == 1


def test_the_action_can_be_chosen_per_fetch(live_list: None, isp_key: str) -> None:
    body = b"".join(fetch(f"{FEED}.rpz?action=nxdomain", isp_key).streaming_content)
    assert b"CNAME\t." in body and b"127.0.0.1" not in body
    assert fetch(f"{FEED}.rpz?action=drop", isp_key).status_code == 400


def test_without_a_valid_key_nothing_is_served(
    live_list: None, isp_org: Organisation, isp_key: str
) -> None:
    assert fetch(f"{FEED}.rpz").status_code == 401
    assert fetch(f"{FEED}.rpz", "oh_nope_nope").status_code == 401
    key = isp_org.api_keys.get()
    do_revoke_api_key(key)
    revoked = fetch(f"{FEED}.rpz", isp_key)
    assert revoked.status_code == 401 and b"whole.test" not in revoked.content
    assert not FeedFetch.objects.exists()


def test_another_countrys_provider_cannot_read_this_list(
    live_list: None, hotline_b: Organisation
) -> None:
    isp_nl = do_create_organisation("ISP NL", "isp", "NL")
    key = do_create_api_key(isp_nl, "resolvers", "read")[1]
    theirs = fetch(f"{FEED}.rpz?hotline=hotline-a", key)
    missing = fetch(f"{FEED}.rpz?hotline=no-such-hotline", key)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
    # Its own country's hotline has published nothing.
    assert b"whole.test" not in fetch(f"{FEED}.rpz", key).content


def test_keys_of_organisations_that_are_not_providers_are_refused(
    live_list: None, hotline_a: Organisation
) -> None:
    partner = do_create_organisation("Partner DK", "partner", "DK")
    key = do_create_api_key(partner, "api", "read")[1]
    assert fetch(f"{FEED}.rpz", key).status_code == 404
    hotline_key = do_create_api_key(hotline_a, "own", "read")[1]
    assert fetch(f"{FEED}.rpz", hotline_key).status_code == 404


def test_a_country_with_two_hotlines_needs_the_hotline_named(live_list: None, isp_key: str) -> None:
    do_create_organisation("Second hotline DK", "hotline", "DK")
    assert fetch(f"{FEED}.rpz", isp_key).status_code == 400
    assert fetch(f"{FEED}.rpz?hotline=hotline-a", isp_key).status_code == 200
