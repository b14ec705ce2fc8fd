"""NUL characters are a clear 4xx in every request, on SQLite and PostgreSQL alike.

On PostgreSQL a NUL reaching a query was a 500 (issue 13, fault 5); SQLite
stored it. These tests run on both databases (``DATABASE_URL`` picks one).
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from PIL import Image

from openhotline.accounts.actions import do_create_api_key
from openhotline.accounts.models import Organisation, User
from openhotline.lib.nulchars import nul_path
from openhotline.reports.models import Report, ReportedUrl

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_key(db: Any) -> str:
    from openhotline.accounts.actions import do_create_organisation

    partner = do_create_organisation("Platform Partner", "partner", "DK")
    return do_create_api_key(partner, "intake", "read_write")[1]


def post_json(key: str, path: str, body: Any) -> Any:
    return Client().post(
        path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"urls": ["http://ok.test/"], "comment": "a\x00b"}, ["body", "comment"]),
        ({"urls": ["http://ok.test/"], "external_ref": "\x00"}, ["body", "external_ref"]),
        ({"urls": ["http://ok.test/\x00"]}, ["body", "urls", 0]),
        (
            {"urls": [], "description": "d", "file_hashes": [{"algorithm": "x\x00", "value": "1"}]},
            ["body", "file_hashes", 0, "algorithm"],
        ),
        ({"urls": ["http://ok.test/"], "comment\x00": "x"}, ["body", "comment\x00"]),
    ],
    ids=["comment", "external-ref", "url", "nested-hash", "key"],
)
def test_a_nul_in_partner_json_is_a_422_naming_the_field_and_files_nothing(
    hotline_a: Organisation, partner_key: str, body: dict[str, Any], loc: list[Any]
) -> None:
    response = post_json(partner_key, "/api/v1/reports", {**body, "hotline": hotline_a.slug})
    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == loc and "NUL" in error["msg"]
    assert not Report.objects.exists() and not ReportedUrl.objects.exists()


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(
    hotline_a: Organisation, partner_key: str
) -> None:
    body = {"urls": ["http://ok.test/"], "comment": "\\u0000", "hotline": hotline_a.slug}
    response = post_json(partner_key, "/api/v1/reports", body)
    assert response.status_code == 201, response.content
    assert Report.objects.get().comment == "\\u0000"


def test_a_nul_in_the_matching_api_json_or_path_or_query_is_refused(
    hotline_a: Organisation, partner_key: str
) -> None:
    response = post_json(partner_key, "/api/v1/match", {"md5": "\x00"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "md5"]
    auth = {"Authorization": f"Bearer {partner_key}"}
    response = Client().get("/api/v1/reports/AB%00CD", headers=auth)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path"]
    police = do_create_api_key(
        Organisation.objects.create(name="Police", slug="police", kind="lea", country="DK"),
        "feed",
        "read",
    )[1]
    response = Client().get("/api/v1/lea/items?since=%00", HTTP_AUTHORIZATION=f"Bearer {police}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "since"]


def test_binary_uploads_with_nul_bytes_are_still_accepted(
    hotline_a: Organisation, partner_key: str
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buffer, "PNG")
    assert b"\x00" in buffer.getvalue()
    auth = {"Authorization": f"Bearer {partner_key}"}
    buffer.seek(0)
    buffer.name = "a.png"
    multipart = Client().post("/api/v1/hash", {"file": buffer}, headers=auth)
    assert multipart.status_code == 200, multipart.content
    raw = Client().post(
        "/api/v1/hash", buffer.getvalue(), content_type="application/octet-stream", headers=auth
    )
    assert raw.status_code == 200 and raw.json()["sha256"] == multipart.json()["sha256"]


def test_a_nul_in_the_public_report_form_is_a_400_and_files_nothing(
    hotline_a: Organisation, settings: Any
) -> None:
    settings.OPENHOTLINE_PUBLIC_HOTLINE = hotline_a.slug
    fields = {"urls": "http://ok.test/", "description": "a\x00b", "where_found": "web"}
    # As a browser posts it (urlencoded): the middleware answers.
    form = Client().post(
        "/report/", urlencode(fields), content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 400 and b"form description" in form.content
    # Multipart: the form's own check (Django's CharField refuses NUL) answers.
    multipart = Client().post("/report/", fields)
    assert multipart.status_code == 400
    assert not Report.objects.exists()


def test_a_nul_in_a_staff_page_query_or_form_is_a_400(analyst: User, as_user: Any) -> None:
    client = as_user(analyst)
    assert client.get("/app/").status_code == 200
    response = client.get("/app/?q=%00")
    assert response.status_code == 400 and b"query q" in response.content
    response = client.get("/app/reports/AB%00/")
    assert response.status_code == 400
    response = client.post("/app/", {"q": "x\x00"})
    assert response.status_code == 400 and b"form q" in response.content


def test_nul_path_names_the_first_nul_in_nested_data() -> None:
    assert nul_path({"a": [1, "ok", {"b": "x\x00"}]}) == ["a", 2, "b"]
    assert nul_path({"a": ["ok"], "b": None}) is None
    assert nul_path("\x00") == []
