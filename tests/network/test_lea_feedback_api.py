"""The police's answers through the API: ``POST /api/v1/lea/referrals/{code}/…``.

The same ``do_*`` actions as the portal's buttons: each answer is stored
once, on the hotline's URL timeline and in the audit log (naming the key);
a repeated acknowledgement writes nothing, a step the state refuses is 409,
bad input 400/422 with nothing written, another agency's referral 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from openhotline.accounts.actions import do_create_api_key
from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.network.actions.police_feedback import MAX_REASON
from openhotline.network.models import PoliceReferral, ReferralDecision
from tests.network.conftest import referral_timeline


def writer_key(org: Organisation, scope: str = "read_write") -> dict[str, str]:
    _, secret = do_create_api_key(org, "case system", scope)
    return {"Authorization": f"Bearer {secret}"}


def post(client: Client, url: str, headers: dict[str, str], body: Any = None) -> Any:
    data = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
    return client.post(url, data=data, content_type="application/json", headers=headers)


def state(referral: PoliceReferral) -> tuple[Any, ...]:
    referral.refresh_from_db()
    return (
        referral.acknowledged_at,
        referral.decision,
        referral.decision_reason,
        referral.investigation_opened_at,
        referral.victim_identified_at,
    )


def test_police_answer_through_the_api_once_each_on_the_hotlines_timeline(
    referral: PoliceReferral,
    police_org: Organisation,
    analyst: User,
    as_user: Any,
    client: Client,
) -> None:
    headers = writer_key(police_org)
    base = f"/api/v1/lea/referrals/{referral.code}"

    first = post(client, f"{base}/acknowledge", headers)
    assert first.status_code == 200, first.content
    assert first.json()["acknowledged_at"] is not None
    events = AuditEvent.objects.count()
    again = post(client, f"{base}/acknowledge", headers)  # idempotent: nothing written
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert AuditEvent.objects.count() == events
    assert referral_timeline(referral) == ["network.referral_acknowledged"]

    accepted = post(client, f"{base}/accept", headers, {"reason": "Assigned to the cyber unit"})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["decision"] == "accepted"
    before = state(referral)
    # A decision stands: a second one, either way, is a clear 409 and writes nothing.
    for verb in ("accept", "decline"):
        refused = post(client, f"{base}/{verb}", headers, {"reason": "changed our mind"})
        assert refused.status_code == 409
        assert "accepted already" in refused.json()["detail"]
    assert state(referral) == before

    assert post(client, f"{base}/investigation", headers).status_code == 200
    assert post(client, f"{base}/investigation", headers).status_code == 409
    victim = post(client, f"{base}/victim", headers, {"note": "case 2026/117"})
    assert victim.status_code == 200
    assert victim.json()["victim_identified_at"] is not None
    assert post(client, f"{base}/victim", headers, {"note": "again"}).status_code == 409

    referral.refresh_from_db()
    assert referral.decision == ReferralDecision.ACCEPTED
    assert referral.decision_reason == "Assigned to the cyber unit"
    assert referral.acknowledged_by is None  # a key, not an officer
    assert referral_timeline(referral) == [
        "network.referral_acknowledged",
        "network.referral_accepted",
        "network.referral_investigation_opened",
        "network.referral_victim_identified",
    ]
    audited = AuditEvent.objects.filter(object_id=referral.code, action="network.referral_accepted")
    prefix = headers["Authorization"].split("_")[1]
    assert [(e.actor_id, e.organisation_id, e.detail["api_key"]) for e in audited] == [
        (None, police_org.pk, prefix)
    ]
    # The hotline sees the answers on its URL page, as from the portal.
    page = as_user(analyst).get(f"/app/urls/{referral.reported_url.code}/").content.decode()
    assert "accepted by the police (Police DK): Assigned to the cyber unit" in page
    assert "a victim was identified (case 2026/117)" in page
    # And the poller reads the answers back.
    listed = client.get("/api/v1/lea/referrals", headers=headers).json()
    assert [(r["code"], r["decision"]) for r in listed] == [(referral.code, "accepted")]


def test_decline_needs_a_reason_and_bad_input_writes_nothing(
    referral: PoliceReferral, police_org: Organisation, client: Client
) -> None:
    headers = writer_key(police_org)
    base = f"/api/v1/lea/referrals/{referral.code}"
    before = state(referral)
    events = AuditEvent.objects.count()

    assert post(client, f"{base}/decline", headers, "{not json").status_code == 400
    for body in (None, {}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * (MAX_REASON + 1)}):
        answer = post(client, f"{base}/decline", headers, body)
        assert answer.status_code == 422, (body, answer.content)
        where = json.dumps([problem["loc"] for problem in answer.json()["detail"]])
        assert ("reason" in where) if body else ("payload" in where), where
    too_long = post(client, f"{base}/investigation", headers, {"note": "x" * (MAX_REASON + 1)})
    assert too_long.status_code == 422
    # Outcomes need an accepted referral: the state refuses (409), not the input.
    assert post(client, f"{base}/victim", headers).status_code == 409

    assert state(referral) == before
    assert referral_timeline(referral) == []
    assert AuditEvent.objects.count() == events

    declined = post(client, f"{base}/decline", headers, {"reason": "  Outside our remit  "})
    assert declined.status_code == 200
    assert (declined.json()["decision"], declined.json()["acknowledged_at"] is not None) == (
        "declined",
        True,
    )
    referral.refresh_from_db()
    assert referral.decision_reason == "Outside our remit"
    assert referral_timeline(referral) == [
        "network.referral_acknowledged",
        "network.referral_declined",
    ]


def test_a_read_only_key_may_not_answer(
    referral: PoliceReferral, police_org: Organisation, client: Client
) -> None:
    headers = writer_key(police_org, scope="read")
    base = f"/api/v1/lea/referrals/{referral.code}"
    assert post(client, f"{base}/acknowledge", headers).status_code == 403
    assert post(client, f"{base}/accept", headers, {"reason": "ok"}).status_code == 403
    assert state(referral) == (None, "", "", None, None)
    assert referral_timeline(referral) == []


def test_another_agencys_referral_is_not_found(
    referral: PoliceReferral,
    police_nl: User,
    interpol_org: Organisation,
    hotline_a: Organisation,
    client: Client,
) -> None:
    nl_org = police_nl.memberships.get().organisation
    base = f"/api/v1/lea/referrals/{referral.code}"
    for org in (nl_org, interpol_org, hotline_a):
        headers = writer_key(org)
        assert post(client, f"{base}/acknowledge", headers).status_code == 404
        assert post(client, f"{base}/accept", headers, {"reason": "mine"}).status_code == 404
        assert post(client, f"{base}/decline", headers, {"reason": "mine"}).status_code == 404
        assert post(client, f"{base}/investigation", headers).status_code == 404
        assert post(client, f"{base}/victim", headers).status_code == 404
    assert post(client, f"{base}/acknowledge", {}).status_code == 401
    assert (
        post(client, "/api/v1/lea/referrals/nosuch/acknowledge", writer_key(nl_org)).status_code
        == 404
    )
    assert state(referral) == (None, "", "", None, None)
    assert referral_timeline(referral) == []
