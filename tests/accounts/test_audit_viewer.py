"""The auditor's audit-log viewer: filters, chain state, CSV export, and its own audit trail."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openhotline.accounts.actions import do_create_user, do_record_login
from openhotline.accounts.models import Organisation, Role, User
from openhotline.audit.log import record
from openhotline.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(hotline_a: Organisation) -> User:
    return do_create_user("aud", hotline_a, Role.AUDITOR, password="correct horse 11")


def test_the_auditor_sees_their_organisations_events_and_members_logins(
    hotline_a: Organisation,
    hotline_b: Organisation,
    auditor: User,
    analyst: User,
    outsider: User,
    as_user,
) -> None:
    do_record_login(analyst, second_factor=True)
    do_record_login(outsider, second_factor=True)
    record("test.for_b", organisation=hotline_b, object_type="x", object_id="secret-b")
    page = as_user(auditor).get("/app/audit/").content.decode()
    assert "user.login" in page and "alice" in page
    assert "oscar" not in page and "secret-b" not in page


def test_the_filters_narrow_by_actor_action_object_and_date(
    hotline_a: Organisation, auditor: User, analyst: User, as_user
) -> None:
    record(
        "blocklist.entry_approved",
        actor=analyst,
        organisation=hotline_a,
        object_type="blocking.blocklistentry",
        object_id="B1",
    )
    record(
        "blocklist.entry_rejected",
        actor=auditor,
        organisation=hotline_a,
        object_type="blocking.blocklistentry",
        object_id="B2",
    )
    record(
        "report.filed",
        actor=analyst,
        organisation=hotline_a,
        object_type="reports.report",
        object_id="R1",
    )
    client = as_user(auditor)

    def objects(query: str) -> set[str]:
        response = client.get(f"/app/audit/export.csv?{query}")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        return {row["object_id"] for row in rows if row["object_id"]}

    assert objects("actor=alice") == {"B1", "R1"}
    assert objects("action=blocklist.") == {"B1", "B2"}
    assert objects("object=B2") == {"B2"}
    assert objects("object=reports.report:R1") == {"R1"}
    assert objects("object=blocking.blocklistentry:R1") == set()
    today = timezone.localdate()
    assert {"B1", "B2", "R1"} <= objects(f"since={today}&until={today}")
    assert objects(f"until={today - timedelta(days=1)}") == set()
    bad = client.get(f"/app/audit/export.csv?since={today}&until={today - timedelta(days=2)}")
    assert bad.status_code == 400


def test_the_csv_export_streams_every_column_and_is_recorded(
    hotline_a: Organisation, auditor: User, as_user
) -> None:
    record("x.y", organisation=hotline_a, detail={"n": 1})
    response = as_user(auditor).get("/app/audit/export.csv?action=x.")
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["seq", "created_at", "actor", "organisation", "action"]
    event = AuditEvent.objects.get(action="x.y")
    assert rows[1][0] == str(event.seq) and rows[1][-1] == event.hash and rows[1][7] == '{"n": 1}'
    exported = AuditEvent.objects.get(action="audit.log_exported")
    assert exported.actor == auditor and exported.detail == {"action": "x."}


def test_every_view_of_the_viewer_is_recorded(
    hotline_a: Organisation, auditor: User, as_user
) -> None:
    client = as_user(auditor)
    for n in range(101):
        record("x.many", organisation=hotline_a, object_id=str(n))
    client.get("/app/audit/?actor=alice")
    client.get("/app/audit/?page=2")
    viewed = list(AuditEvent.objects.filter(action="audit.log_viewed").order_by("seq"))
    assert [v.detail for v in viewed] == [{"actor": "alice"}, {"page": "2"}]
    assert all(v.actor == auditor and v.organisation == hotline_a for v in viewed)


def test_the_chain_state_shows_intact_then_broken(
    hotline_a: Organisation, auditor: User, as_user
) -> None:
    client = as_user(auditor)
    assert "Not verified from this page yet" in client.get("/app/audit/").content.decode()
    response = client.post("/app/audit/verify/", follow=True)
    page = response.content.decode()
    assert "The audit log is intact" in page and "intact" in page.split('id="chain-state"')[1]
    # Someone edits an event in the database, behind the application's back.
    victim = AuditEvent.objects.order_by("seq").first()
    assert victim is not None
    AuditEvent.objects.filter(pk=victim.pk).update(action="edited.behind.its.back")
    page = client.post("/app/audit/verify/", follow=True).content.decode()
    assert f"broken at event #{victim.seq}" in page
    state = AuditEvent.objects.filter(action="audit.chain_verified").order_by("-seq").first()
    assert state is not None and state.detail["intact"] is False


def test_the_viewer_page_has_a_bounded_number_of_queries(
    hotline_a: Organisation, auditor: User, analyst: User, as_user
) -> None:
    client = as_user(auditor)
    for n in range(5):
        record("x.one", actor=analyst, organisation=hotline_a, object_id=str(n))
    client.get("/app/audit/")
    with CaptureQueriesContext(connection) as few:
        client.get("/app/audit/")
    for n in range(40):
        record("x.more", actor=analyst, organisation=hotline_a, object_id=str(n))
    with CaptureQueriesContext(connection) as many:
        client.get("/app/audit/")
    assert len(many) == len(few)


def test_an_analyst_and_an_admin_are_refused_the_viewer(
    analyst: User, admin: User, as_user
) -> None:
    for user in (analyst, admin):
        client = as_user(user)
        assert client.get("/app/audit/").status_code == 404
        assert client.get("/app/audit/export.csv").status_code == 404
        assert client.post("/app/audit/verify/").status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="audit.log_").exists()


def test_another_organisations_auditor_sees_none_of_this_hotline(
    hotline_a: Organisation, hotline_b: Organisation, analyst: User, as_user
) -> None:
    other = do_create_user("bob", hotline_b, Role.AUDITOR, password="correct horse 12")
    record("x.a_only", actor=analyst, organisation=hotline_a, object_id="A-ONLY")
    client = as_user(other)
    assert "A-ONLY" not in client.get("/app/audit/").content.decode()
    body = b"".join(client.get("/app/audit/export.csv").streaming_content).decode()
    assert "A-ONLY" not in body and "alice" not in body


def test_an_auditor_lands_on_the_viewer(auditor: User, settings) -> None:
    from django.test import Client

    settings.OPENHOTLINE_REQUIRE_2FA = False
    response = Client().post(
        "/accounts/login/", {"username": "aud", "password": "correct horse 11"}
    )
    assert response["Location"] == "/app/audit/"
