from __future__ import annotations

import json

import pytest
from django.test import Client
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from openhotline.crawler.geo import ShippedGeo
from openhotline.ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_is_up() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


def test_readyz_is_503_without_a_worker_heartbeat() -> None:
    response = Client().get("/readyz")
    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert "no worker heartbeat" in body["reason"]


def test_readyz_is_ready_with_a_fresh_heartbeat() -> None:
    WorkerHeartbeat.beat("worker-1@test")
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["ready"] is True


def test_readyz_names_an_unreachable_broker(settings) -> None:
    from openhotline.celery import app

    WorkerHeartbeat.beat("worker-1@test")
    # Both: Celery 5.6 has already copied broker_url into broker_write_url,
    # which is the one the check's connection_for_write() reads.
    previous = {key: app.conf[key] for key in ("broker_url", "broker_write_url")}
    app.conf.update(dict.fromkeys(previous, "redis://127.0.0.1:9/0"))
    try:
        response = Client().get("/readyz")
    finally:
        app.conf.update(previous)
    assert response.status_code == 503
    assert "broker unreachable" in json.loads(response.content)["reason"]


def test_readyz_warns_of_old_hosting_data_but_stays_ready(settings, tmp_path) -> None:
    from django.core.management import call_command

    settings.DATA_DIR = tmp_path
    settings.OPENHOTLINE_CDN_RANGES_DIR = ""
    settings.OPENHOTLINE_GEOIP_MMDB = settings.OPENHOTLINE_GEOIP_ASN_MMDB = ""
    WorkerHeartbeat.beat("worker-1@test")

    body = json.loads(Client().get("/readyz").content)
    assert body["ready"] is True
    dated = {item["name"]: item for item in body["hosting_data"]}
    assert dated["CDN ranges: Fastly"] == {
        "name": "CDN ranges: Fastly",
        "origin": "built-in",
        "as_of": "2024-01-01",
        "stale": True,
    }
    assert any(
        w.startswith("CDN ranges: Fastly (built-in) is dated 2024-01-01") for w in body["warnings"]
    )
    # The geo data shipped in geoip2fast is dated too (the date its loaded data gives), and old.
    geo = dated["Geo database (country, AS names)"]
    assert ShippedGeo().source.endswith(f", data of {geo['as_of']}")
    assert (geo["origin"], geo["stale"]) == ("built-in", True)
    assert any(
        w.startswith("Geo database (country, AS names) (built-in)") for w in body["warnings"]
    )

    ranges = tmp_path / "ranges.txt"
    ranges.write_text("192.0.2.0/24\n")
    for provider in ("akamai", "cloudflare"):
        call_command("crawler", "data", "update", "cdn", provider, str(ranges))
    published = {
        "fastly": {"addresses": ["192.0.2.0/24"]},
        "imperva": {"ipRanges": ["192.0.2.0/24"]},
        "cloudfront": {"prefixes": [{"ip_prefix": "192.0.2.0/24", "service": "CLOUDFRONT"}]},
    }
    for provider, content in published.items():
        path = tmp_path / f"{provider}.json"
        path.write_text(json.dumps(content))
        call_command("crawler", "data", "update", "cdn", provider, str(path))
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "SE"}})
    writer.to_db_file(str(tmp_path / "country.mmdb"))
    call_command("crawler", "data", "update", "geo", str(tmp_path / "country.mmdb"))

    response = Client().get("/readyz")
    body = json.loads(response.content)
    assert response.status_code == 200 and body["warnings"] == []
    assert {item["origin"] for item in body["hosting_data"]} == {"loaded", "not loaded"}


def test_readyz_shows_each_machines_index_serial_and_lag(settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from openhotline.matching.models import IndexChange, IndexReplica

    settings.OPENHOTLINE_INDEX_MAX_LAG_SECONDS = 60.0
    WorkerHeartbeat.beat("worker-1@test")
    old = timezone.now() - timedelta(seconds=30)
    first, second = (IndexChange.objects.create(entry_id=n, op="a", created_at=old) for n in (1, 2))
    IndexReplica.objects.create(node="a:/index", serial=second.serial)
    IndexReplica.objects.create(node="b:/index", serial=first.serial)
    IndexReplica.objects.create(
        node="gone:/index", serial=0, updated_at=timezone.now() - timedelta(days=1)
    )

    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    replicas = {r["node"]: r for r in body["index_replicas"]}
    assert set(replicas) == {"a:/index", "b:/index"}  # a machine that stopped reporting: left out
    assert (replicas["a:/index"]["lag_changes"], replicas["a:/index"]["lag_seconds"]) == (0, 0)
    assert replicas["b:/index"]["serial"] == first.serial
    assert replicas["b:/index"]["lag_changes"] == 1
    assert 29 <= replicas["b:/index"]["lag_seconds"] < 60

    settings.OPENHOTLINE_INDEX_MAX_LAG_SECONDS = 10.0
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "PDQ index behind the change log" in json.loads(response.content)["reason"]
    assert "b:/index (1 changes)" in json.loads(response.content)["reason"]
