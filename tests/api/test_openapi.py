"""The OpenAPI document says what the API does (issue 13: schemathesis mismatches)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.actions import do_create_api_key
from openhotline.accounts.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(db: Any) -> dict[str, Any]:
    return dict(Client().get("/api/v1/openapi.json").json())


def test_every_operation_documents_400_401_and_422(schema: dict[str, Any]) -> None:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401", "422"} <= set(operation["responses"]), (method, path)


def test_the_idempotency_key_rules_are_in_the_schema(schema: dict[str, Any]) -> None:
    for path in ("/api/v1/reports", "/api/v1/reports/cybertipline"):
        [param] = [
            p for p in schema["paths"][path]["post"]["parameters"] if p["name"] == "Idempotency-Key"
        ]
        [rules] = [s for s in param["schema"].get("anyOf", [param["schema"]]) if "pattern" in s]
        assert (rules["minLength"], rules["maxLength"]) == (1, 200)
        assert re.fullmatch(rules["pattern"], "5f0c7a7e-2d4b") and not re.fullmatch(
            rules["pattern"], "has space"
        )


def test_every_reference_resolves(schema: dict[str, Any]) -> None:
    text = json.dumps(schema)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"], ref
    match = schema["paths"]["/api/v1/match"]["post"]["requestBody"]["content"]
    frames = match["application/json"]["schema"]["properties"]["vpdq"]
    assert frames["items"]["properties"]["pdq"]["type"] == "string"


def test_a_bad_idempotency_key_or_since_is_a_422(
    hotline_a: Organisation, police_org: Organisation
) -> None:
    partner = Organisation.objects.create(name="P", slug="p", kind="partner", country="DK")
    key = do_create_api_key(partner, "k", "read_write")[1]
    response = Client().post(
        "/api/v1/reports",
        json.dumps({"urls": ["http://ok.test/"], "hotline": hotline_a.slug}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "has space"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    police = do_create_api_key(police_org, "k", "read")[1]
    for since in ("0.5", "yesterday"):
        answer = Client().get(
            f"/api/v1/lea/items?since={since}", headers={"Authorization": f"Bearer {police}"}
        )
        assert answer.status_code == 422, (since, answer.content)
    ok = Client().get(
        "/api/v1/lea/items?since=2024-05-01T10:00:00Z",
        headers={"Authorization": f"Bearer {police}"},
    )
    assert ok.status_code == 200
