from __future__ import annotations

import json

import pytest
from django.test import Client

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
    previous = app.conf.broker_url
    app.conf["broker_url"] = "redis://127.0.0.1:9/0"
    try:
        response = Client().get("/readyz")
    finally:
        app.conf["broker_url"] = previous
    assert response.status_code == 503
    assert "broker unreachable" in json.loads(response.content)["reason"]
