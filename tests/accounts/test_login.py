"""Two-factor login for staff, as a person goes through it."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django_otp.oath import TOTP

from openhotline.accounts.models import User

pytestmark = pytest.mark.django_db


def current_code(secret_b32: str) -> str:
    padded = secret_b32 + "=" * (-len(secret_b32) % 8)
    totp = TOTP(base64.b32decode(padded))
    return f"{totp.token():06d}"


def test_wrong_password_is_refused(analyst: User) -> None:
    response = Client().post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Wrong username, password or code" in response.content.decode()


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
