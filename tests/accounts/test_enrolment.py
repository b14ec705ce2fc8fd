"""The first authenticator comes through a one-time link from an admin,
never from whoever knows the password first."""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.actions import do_issue_enrolment_link
from openhotline.accounts.models import EnrolmentLink, User
from openhotline.audit.models import AuditEvent
from tests.support.racers import Racers, postgres_only

pytestmark = pytest.mark.django_db


def code_from(page: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert match is not None, page
    secret = match.group(1)
    return f"{TOTP(base64.b32decode(secret + '=' * (-len(secret) % 8))).token():06d}"


def issue_link_by_cli(username: str) -> str:
    out = io.StringIO()
    call_command("user", "enrol-link", username, stdout=out)
    match = re.search(r"https?://\S+(/accounts/enrol/[^/\s]+/)", out.getvalue())
    assert match is not None, out.getvalue()
    return match.group(1)


def test_a_password_alone_never_sets_up_an_authenticator(analyst: User) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse 1"})
    assert response.status_code == 200
    assert "Wrong username, password or code" in response.content.decode()
    assert client.get("/app/").status_code == 302
    assert client.get("/accounts/2fa/setup/").status_code == 404
    assert not TOTPDevice.objects.filter(user=analyst).exists()


def test_an_admin_link_enrols_the_authenticator_once(analyst: User) -> None:
    path = issue_link_by_cli("alice")
    token = path.rstrip("/").rsplit("/", 1)[1]
    stored = EnrolmentLink.objects.get(user=analyst)
    # Only the hash is kept.
    assert token not in stored.token_hash and stored.token_hash != token

    client = Client()
    first = client.get(path)
    assert first.status_code == 200 and "alice" in first.content.decode()
    assert "totp-secret" not in first.content.decode()  # no seed before the password
    wrong = client.post(path, {"password": "not it"})
    assert "Wrong password" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=analyst).exists()

    assert client.post(path, {"password": "correct horse 1"}).status_code == 302
    page = client.get(path).content.decode()
    wrong_code = "000000" if code_from(page) != "000000" else "111111"
    assert "does not match" in client.post(path, {"code": wrong_code}).content.decode()
    response = client.post(path, {"code": code_from(page)})
    assert response.status_code == 302 and response["Location"] == "/app/"
    assert client.get("/app/").status_code == 200
    assert TOTPDevice.objects.get(user=analyst).confirmed
    stored.refresh_from_db()
    assert stored.used_at is not None

    # Single use, for anyone.
    assert Client().get(path).status_code == 404
    actions = list(
        AuditEvent.objects.filter(action__startswith="user.").values_list("action", flat=True)
    )
    assert "user.enrolment_link_issued" in actions and "user.totp_enrolled" in actions

    # From now on the code is part of the login.
    fresh = Client()
    fresh.post("/accounts/login/", {"username": "alice", "password": "correct horse 1"})
    assert fresh.get("/app/").status_code == 302


def test_an_expired_link_does_not_work(analyst: User) -> None:
    link, token = do_issue_enrolment_link(analyst)
    EnrolmentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    response = Client().get(f"/accounts/enrol/{token}/")
    assert response.status_code == 404
    assert (
        Client().post(f"/accounts/enrol/{token}/", {"password": "correct horse 1"}).status_code
        == 404
    )


def test_a_new_link_replaces_the_open_one(analyst: User) -> None:
    _, first = do_issue_enrolment_link(analyst)
    _, second = do_issue_enrolment_link(analyst)
    assert Client().get(f"/accounts/enrol/{first}/").status_code == 404
    assert Client().get(f"/accounts/enrol/{second}/").status_code == 200


def test_a_made_up_link_is_refused(analyst: User) -> None:
    assert Client().get("/accounts/enrol/not-a-token/").status_code == 404


def test_a_link_replaces_a_lost_authenticator(analyst: User) -> None:
    old = TOTPDevice.objects.create(user=analyst, name="old phone", confirmed=True)
    _, token = do_issue_enrolment_link(analyst)
    path = f"/accounts/enrol/{token}/"
    client = Client()
    client.post(path, {"password": "correct horse 1"})
    client.post(path, {"code": code_from(client.get(path).content.decode())})
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.get(user=analyst).confirmed


def test_the_cli_refuses_an_unknown_user(db: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user named"):
        call_command("user", "enrol-link", "nobody")


@pytest.fixture
def racers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Racers]:
    with Racers(4, os.environ["OPENHOTLINE_DATA"]) as started:
        yield started


@postgres_only
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_one_link_used_at_once_by_several_processes_enrols_one_device(
    analyst: User, racers: Racers
) -> None:
    link, _ = do_issue_enrolment_link(analyst)
    devices = [
        TOTPDevice.objects.create(user=analyst, name=f"d{n}", confirmed=False) for n in range(4)
    ]
    assert connection.vendor == "postgresql"
    answers = racers.run_each(
        "tests.accounts.enrol_race.use_link", [(link.pk, d.pk) for d in devices]
    )
    assert sorted(answers) == ["enrolled", "refused", "refused", "refused"]
    assert TOTPDevice.objects.filter(user=analyst, confirmed=True).count() == 1
