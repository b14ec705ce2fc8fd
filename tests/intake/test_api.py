from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from openhotline.accounts.actions import do_create_api_key
from openhotline.accounts.models import Organisation
from openhotline.intake.models import IdempotencyRecord, ReportedFileHash
from openhotline.reports.models import Report, ReportedUrl, ReportSource, UrlState

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).parent / "samples" / "cybertipline-report.xml"


def post(
    key: str | None, body: Any, *, path: str = "/api/v1/reports", idempotency: str = ""
) -> Any:
    headers: dict[str, str] = {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if idempotency:
        headers["Idempotency-Key"] = idempotency
    if isinstance(body, bytes):
        return Client().post(path, body, content_type="application/xml", headers=headers)
    return Client().post(path, json.dumps(body), content_type="application/json", headers=headers)


def locs(response: Any) -> list[list[Any]]:
    assert response.status_code == 422, response.content
    return [error["loc"] for error in response.json()["detail"]]


def test_a_partner_files_a_report_and_learns_which_urls_were_new(
    hotline_a: Organisation, partner_org: Organisation, partner_key: str
) -> None:
    response = post(
        partner_key,
        {
            "urls": ["HTTP://Host.TEST/a#x", "http://host.test/a", "https://host.test/b"],
            "external_ref": "case-17",
            "incident_at": "2024-05-01T10:00:00Z",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    report = Report.objects.get()
    assert body["code"] == report.code and body["state"] == "received"
    assert body["hotline"] == hotline_a.name
    assert body["urls"] == [
        {"normalized_url": "http://host.test/a", "new": True},
        {"normalized_url": "https://host.test/b", "new": True},
    ]
    assert report.source == ReportSource.PARTNER and report.submitted_by_org == partner_org
    assert report.external_ref == "case-17" and report.incident_at is not None


def test_a_partner_learns_only_whether_a_url_was_new_never_another_reporters_outcome(
    hotline_a: Organisation, partner_key: str, other_partner_key: str
) -> None:
    """An outsider (another partner) reports a URL the hotline already found illegal:
    the answer says "not new" and nothing about the hotline's state of it."""
    post(partner_key, {"urls": ["http://known.test/page"]})
    ReportedUrl.objects.update(state=UrlState.NOTICE_SENT)
    response = post(other_partner_key, {"urls": ["http://known.test/page", "http://fresh.test/"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["urls"] == [
        {"normalized_url": "http://known.test/page", "new": False},
        {"normalized_url": "http://fresh.test/", "new": True},
    ]
    # Later too: the report's page answers the same, and no URL state shows anywhere.
    again = Client().get(
        f"/api/v1/reports/{body['code']}", HTTP_AUTHORIZATION=f"Bearer {other_partner_key}"
    )
    assert again.json()["urls"] == body["urls"]
    for answer in (response, again):
        assert b"notice_sent" not in answer.content and b"illegal" not in answer.content
    # The first reporter's report still says its URL was new to the hotline.
    first = Report.objects.order_by("created_at").first()
    assert first is not None
    own = Client().get(f"/api/v1/reports/{first.code}", HTTP_AUTHORIZATION=f"Bearer {partner_key}")
    assert own.json()["urls"] == [{"normalized_url": "http://known.test/page", "new": True}]


def test_the_same_idempotency_key_replays_the_first_answer(
    hotline_a: Organisation, partner_key: str
) -> None:
    body = {"urls": ["http://host.test/a"]}
    first = post(partner_key, body, idempotency="retry-1")
    second = post(partner_key, body, idempotency="retry-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Report.objects.count() == 1
    reused = post(partner_key, {"urls": ["http://host.test/other"]}, idempotency="retry-1")
    assert locs(reused) == [["header", "Idempotency-Key"]]
    assert Report.objects.count() == 1


def test_idempotency_keys_belong_to_one_organisation_and_expire(
    hotline_a: Organisation, partner_key: str, other_partner_key: str
) -> None:
    body = {"urls": ["http://host.test/a"]}
    mine = post(partner_key, body, idempotency="k").json()
    theirs = post(other_partner_key, body, idempotency="k").json()
    assert mine["code"] != theirs["code"]
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    again = post(partner_key, body, idempotency="k").json()
    assert again["code"] not in {mine["code"], theirs["code"]}
    assert Report.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"urls": ["http://ok.test/", "javascript:alert(1)"]}, [["body", "report", "urls", 1]]),
        ({"urls": []}, [["body", "report", "urls"]]),
        ({"urls": "http://ok.test/"}, [["body", "report", "urls"]]),
        ({"urls": [f"http://ok.test/{i}" for i in range(51)]}, [["body", "report", "urls"]]),
        (
            {"urls": ["http://ok.test/"], "file_hashes": [{"algorithm": "md5", "value": "xyz"}]},
            [["body", "report", "file_hashes", 0, "value"]],
        ),
        (
            {"urls": ["http://ok.test/"], "incident_at": "2024-05-01T10:00:00"},
            [["body", "report", "incident_at"]],
        ),
        ({"urls": ["http://ok.test/"], "hotline": "nowhere"}, [["body", "report", "hotline"]]),
    ],
    ids=["bad-url", "empty", "not-a-list", "51-urls", "bad-hash", "naive-time", "bad-hotline"],
)
def test_errors_give_the_path_of_the_field_and_leave_no_rows(
    hotline_a: Organisation, partner_key: str, body: dict[str, Any], expected: list[Any]
) -> None:
    assert locs(post(partner_key, body)) == expected
    assert not Report.objects.exists() and not ReportedUrl.objects.exists()


def test_an_oversized_body_is_refused_before_it_is_read(
    hotline_a: Organisation, partner_key: str, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = post(partner_key, {"urls": ["http://ok.test/"], "comment": "x" * 3000})
    assert response.status_code == 413 and "larger than 2000 bytes" in response.json()["detail"]
    assert not Report.objects.exists()


def test_outsiders_are_refused(
    hotline_a: Organisation,
    isp_org: Organisation,
    partner_key: str,
    other_partner_key: str,
    read_only_key: str,
    revoked_key: str,
) -> None:
    body = {"urls": ["http://ok.test/"]}
    assert post(None, body).status_code == 401
    assert post(revoked_key, body).status_code == 401
    assert post("oh_nothing_here", body).status_code == 401
    assert post(read_only_key, body).status_code == 403
    isp_key = do_create_api_key(isp_org, "feed", "read_write")[1]
    assert post(isp_key, body).status_code == 403
    assert (
        post(read_only_key, SAMPLE.read_bytes(), path="/api/v1/reports/cybertipline").status_code
        == 403
    )
    assert not Report.objects.exists()
    # A report is visible to the organisation that sent it, and to no other.
    code = post(partner_key, body).json()["code"]
    own = Client().get(f"/api/v1/reports/{code}", HTTP_AUTHORIZATION=f"Bearer {read_only_key}")
    assert own.status_code == 200 and own.json()["code"] == code
    other = Client().get(
        f"/api/v1/reports/{code}", HTTP_AUTHORIZATION=f"Bearer {other_partner_key}"
    )
    assert other.status_code == 404
    assert Client().get(f"/api/v1/reports/{code}").status_code == 401


def test_an_escalated_report_raises_the_priority_of_its_urls(
    hotline_a: Organisation, partner_key: str
) -> None:
    post(partner_key, {"urls": ["http://ok.test/a"]})
    post(partner_key, {"urls": ["http://ok.test/a", "http://ok.test/b"], "escalate": True})
    assert dict(ReportedUrl.objects.values_list("normalized_url", "priority")) == {
        "http://ok.test/a": 100,
        "http://ok.test/b": 100,
    }


def test_the_receiving_hotline_is_chosen_by_slug_key_or_setting(
    hotline_a: Organisation, hotline_b: Organisation, partner_key: str, settings: Any
) -> None:
    body: dict[str, Any] = {"urls": ["http://ok.test/"]}
    assert locs(post(partner_key, body)) == [["body", "report", "hotline"]]
    assert post(partner_key, {**body, "hotline": hotline_b.slug}).json()["hotline"] == "Hotline B"
    settings.OPENHOTLINE_PUBLIC_HOTLINE = hotline_a.slug
    assert post(partner_key, body).json()["hotline"] == "Hotline A"
    hotline_key = do_create_api_key(hotline_b, "own system", "read_write")[1]
    assert post(hotline_key, body).json()["hotline"] == "Hotline B"
    assert Report.objects.filter(hotline=hotline_b, source=ReportSource.STAFF).count() == 1


def test_a_cybertipline_report_keeps_urls_time_hashes_and_escalation(
    hotline_a: Organisation, partner_key: str
) -> None:
    response = post(
        partner_key, SAMPLE.read_bytes(), path="/api/v1/reports/cybertipline", idempotency="ct-1"
    )
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert report.escalated and report.incident_at is not None
    assert report.incident_at.isoformat() == "2024-05-01T13:45:00+00:00"
    assert "Example Image Host" in report.description
    assert [u["normalized_url"] for u in response.json()["urls"]] == [
        "http://images.example.test/gallery/42",
        "https://images.example.test/gallery/43",
        "https://cdn.example.test/u/IMG_0001.JPG",
    ]
    assert set(ReportedUrl.objects.values_list("priority", flat=True)) == {100}
    hashes = ReportedFileHash.objects.filter(report=report)
    assert sorted(hashes.values_list("algorithm", flat=True)) == ["md5", "other", "pdq", "sha1"]
    assert {h.reported_url.normalized_url for h in hashes if h.reported_url} == {
        "https://cdn.example.test/u/IMG_0001.JPG"
    }
    again = post(
        partner_key, SAMPLE.read_bytes(), path="/api/v1/reports/cybertipline", idempotency="ct-1"
    )
    assert again.json() == response.json() and Report.objects.count() == 1


@pytest.mark.parametrize(
    ("xml", "path"),
    [
        (b"<report><incidentSummary></report>", "/report/incidentSummary"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<report>&x;</report>",
            "/",
        ),
        (
            b'<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<report>&b;</report>",
            "/",
        ),
    ],
    ids=["malformed", "xxe", "billion-laughs"],
)
def test_bad_and_hostile_xml_is_refused_with_a_path_and_leaves_no_rows(
    hotline_a: Organisation, partner_key: str, xml: bytes, path: str
) -> None:
    response = post(partner_key, xml, path="/api/v1/reports/cybertipline")
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["path"] == path and error["type"] == "xml"
    assert not Report.objects.exists() and not ReportedFileHash.objects.exists()


def test_the_openapi_schema_documents_both_endpoints(db: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    json_op = schema["paths"]["/api/v1/reports"]["post"]
    xml_op = schema["paths"]["/api/v1/reports/cybertipline"]["post"]
    assert "201" in json_op["responses"] and "422" in json_op["responses"]
    assert "application/xml" in xml_op["requestBody"]["content"]
    for operation in (json_op, xml_op):
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert "urls" in schema["components"]["schemas"]["ReportIn"]["properties"]


@pytest.mark.parametrize(
    ("encoding", "status", "message"),
    [
        ("UTF-7", 422, "UTF-7 is not accepted"),
        ("Shift_JIS", 201, ""),
        ("GBK", 201, ""),
        ("Big5", 201, ""),
        ("UTF-32", 201, ""),
        ("x-unknown-charset", 422, "unknown encoding 'x-unknown-charset'"),
    ],
)
def test_a_declared_xml_encoding_is_decoded_or_refused_by_name(
    hotline_a: Organisation, partner_key: str, encoding: str, status: int, message: str
) -> None:
    text = SAMPLE.read_text("utf-8").replace('encoding="UTF-8"', f'encoding="{encoding}"')
    data = text.encode("utf-8" if status == 422 else encoding)
    response = post(partner_key, data, path="/api/v1/reports/cybertipline")
    assert response.status_code == status, response.content
    if message:
        assert message in response.json()["detail"][0]["msg"]
        assert not Report.objects.exists()
    else:
        assert Report.objects.get().urls.count() == 3
