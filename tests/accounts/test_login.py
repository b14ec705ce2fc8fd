"""Two-factor login for staff, as a person goes through it."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.models import User

pytestmark = pytest.mark.django_db


def current_code(secret_b32: str) -> str:
    padded = secret_b32 + "=" * (-len(secret_b32) % 8)
    totp = TOTP(base64.b32decode(padded))
    return f"{totp.token():06d}"


def test_first_login_leads_to_enrolment_and_then_requires_the_code(analyst: User) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse 1"})
    assert response.status_code == 302
    # Not verified yet: every staff page sends the user to enrolment.
    assert client.get("/app/")["Location"] == "/accounts/2fa/setup/"
    page = client.get("/accounts/2fa/setup/")
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode())
    assert match is not None
    secret = match.group(1)
    wrong = client.post("/accounts/2fa/setup/", {"code": "000000"})
    assert "does not match" in wrong.content.decode()
    # django-otp throttles a device for a second after each wrong code.
    time.sleep(1.1)
    response = client.post("/accounts/2fa/setup/", {"code": current_code(secret)})
    assert response.status_code == 302
    assert client.get("/app/").status_code == 200
    assert TOTPDevice.objects.get(user=analyst).confirmed

    # Next time the code is part of the login.
    fresh = Client()
    refused = fresh.post("/accounts/login/", {"username": "alice", "password": "correct horse 1"})
    assert refused.status_code == 200
    assert "Enter the current code" in refused.content.decode()
    assert fresh.get("/app/").status_code == 302


def test_wrong_password_is_refused(analyst: User) -> None:
    response = Client().post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Wrong username or password" in response.content.decode()


def test_login_works_without_second_factor_when_turned_off(analyst: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    client = Client()
    client.post("/accounts/login/", {"username": "alice", "password": "correct horse 1"})
    assert client.get("/app/").status_code == 200


def test_login_ignores_an_offsite_next_url(analyst: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    response = Client().post(
        "/accounts/login/?next=https://evil.invalid/",
        {"username": "alice", "password": "correct horse 1", "next": "https://evil.invalid/"},
    )
    assert response["Location"] == "/app/"
