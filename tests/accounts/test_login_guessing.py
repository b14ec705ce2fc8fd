"""Logins resist guessing: throttling per account and per address, no oracle,
a TOTP back-off that an attacker with the password cannot turn into a lock-out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashes(settings) -> None:
    # Dozens of logins per test: the production hasher would take minutes here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


ATTACKER = "203.0.113.7"
USER_ADDRESS = "198.51.100.20"


def log_in(
    username: str, password: str, code: str = "", address: str = USER_ADDRESS, **headers: str
) -> tuple[Client, int, str]:
    client = Client(REMOTE_ADDR=address, **headers)  # type: ignore[arg-type]
    response = client.post(
        "/accounts/login/", {"username": username, "password": password, "code": code}
    )
    return client, response.status_code, response.content.decode()


def logged_in(client: Client) -> bool:
    return client.get("/app/").status_code == 200


def enrol(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_of(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():06d}"


def wrong_code(device: TOTPDevice) -> str:
    valid = {code_of(device, offset) for offset in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(100000, 999999)) if c not in valid)


def answer(body: str) -> str:
    """The page without what differs between any two requests (CSRF token, nonce, username)."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    body = re.sub(r'nonce="[^"]*"', "", body)
    return re.sub(r'name="username" value="[^"]*"', "", body)


def test_thirty_wrong_passwords_lock_the_account_even_for_the_right_one(analyst: User) -> None:
    for _ in range(30):
        _, status, _ = log_in("alice", "wrong guess", address=ATTACKER)
    assert status == 429
    client, status, body = log_in("alice", "correct horse 1", address=ATTACKER)
    assert status == 429 and "Too many failed logins" in body
    assert not logged_in(client)


def test_the_account_lock_holds_from_any_address(analyst: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    for number in range(settings.AXES_FAILURE_LIMIT):
        log_in("alice", "wrong guess", address=f"203.0.113.{number + 1}")
    client, status, _ = log_in("alice", "correct horse 1", address=USER_ADDRESS)
    assert status == 429 and not logged_in(client)


def test_one_address_is_locked_across_accounts(analyst: User, admin: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    for number in range(settings.AXES_FAILURE_LIMIT):
        log_in(f"nobody{number}", "wrong guess", address=ATTACKER)
    client, status, _ = log_in("adam", "correct horse 2", address=ATTACKER)
    assert status == 429 and not logged_in(client)
    # Another address is not locked out by what this one did.
    client, status, _ = log_in("adam", "correct horse 2", address=USER_ADDRESS)
    assert status == 302 and logged_in(client)


def test_a_forged_forwarded_for_header_does_not_dodge_the_address_lock(
    analyst: User, settings
) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    for number in range(settings.AXES_FAILURE_LIMIT):
        log_in(f"nobody{number}", "x", address=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
    _, status, _ = log_in("someone", "x", address=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert status == 429


def test_the_address_comes_from_the_proxy_header_when_configured(analyst: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    settings.OPENHOTLINE_CLIENT_IP_HEADER = "X-Forwarded-For"
    for number in range(settings.AXES_FAILURE_LIMIT):
        log_in(f"nobody{number}", "x", address="10.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER)
    # The proxy's own address is not locked; the client behind it is.
    _, status, _ = log_in(
        "alice", "correct horse 1", address="10.0.0.1", HTTP_X_FORWARDED_FOR=USER_ADDRESS
    )
    assert status == 302
    _, status, _ = log_in(
        "alice", "correct horse 1", address="10.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER
    )
    assert status == 429


def test_the_lock_ends_after_the_cool_off_even_if_guessing_went_on(analyst: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    for _ in range(settings.AXES_FAILURE_LIMIT + 5):
        log_in("alice", "wrong guess", address=ATTACKER)
    assert log_in("alice", "correct horse 1")[1] == 429
    # The cool-off passes (the guesses made during the lock did not extend it).
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    client, status, _ = log_in("alice", "correct horse 1")
    assert status == 302 and logged_in(client)


def test_a_wrong_password_answers_the_same_with_or_without_totp(
    hotline_a: Organisation,
) -> None:
    with_totp = do_create_user("tina", hotline_a, Role.ANALYST, password="correct horse 7")
    device = enrol(with_totp)
    do_create_user("nora", hotline_a, Role.ANALYST, password="correct horse 8")
    answers = {
        "wrong password, TOTP user": log_in("tina", "wrong guess", "123456")[1:],
        "wrong password, TOTP user, no code": log_in("tina", "wrong guess")[1:],
        "right password, wrong code": log_in("tina", "correct horse 7", wrong_code(device))[1:],
        "right password, no code": log_in("tina", "correct horse 7")[1:],
        "wrong password, user without TOTP": log_in("nora", "wrong guess", "123456")[1:],
        "no such user": log_in("ghost", "wrong guess", "123456")[1:],
    }
    statuses = {name: status for name, (status, _) in answers.items()}
    assert set(statuses.values()) == {200}, statuses
    pages = {name: answer(body) for name, (_, body) in answers.items()}
    reference = pages["no such user"]
    for name, page in pages.items():
        assert page == reference, f"{name} answers differently"
    assert "Wrong username, password or code" in reference
    # And the right password with the right code logs in.
    client, status, _ = log_in("tina", "correct horse 7", code_of(device))
    assert status == 302 and logged_in(client)


def test_an_attacker_with_the_password_cannot_lock_out_the_code(
    hotline_a: Organisation, settings
) -> None:
    user = do_create_user("tina", hotline_a, Role.ANALYST, password="correct horse 7")
    device = enrol(user)
    bad = wrong_code(device)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in("tina", "correct horse 7", bad, address=ATTACKER)[1] == 200
    # django-otp's doubling delay would now refuse even the right code for minutes.
    client, status, _ = log_in("tina", "correct horse 7", code_of(device))
    assert status == 302 and logged_in(client)


def test_code_guesses_lock_the_account_only_for_the_cool_off(
    hotline_a: Organisation, settings
) -> None:
    user = do_create_user("tina", hotline_a, Role.ANALYST, password="correct horse 7")
    device = enrol(user)
    bad = wrong_code(device)
    for _ in range(settings.AXES_FAILURE_LIMIT + 5):
        log_in("tina", "correct horse 7", bad, address=ATTACKER)
    assert log_in("tina", "correct horse 7", code_of(device))[1] == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    device.refresh_from_db()
    client, status, _ = log_in("tina", "correct horse 7", code_of(device))
    assert status == 302 and logged_in(client)
