"""Shared fixtures: the personas, logged-in clients and real services.

Personas, as STYLE.md asks: an analyst and an admin of hotline A, an
analyst of hotline B (the outsider for A's data), a police officer and an
ISP operator.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.actions import do_create_organisation, do_create_user
from openhotline.accounts.models import Organisation, Role, User

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TESTDATA = SHARED / "testdata"
IN_CI = bool(os.environ.get("CI"))

# The real browser's fixtures (browser_server, browser, browser_page) and the S3
# server's (s3_server, s3_bucket, s3_evidence_url), for every test.
pytest_plugins = ["tests.support.browser", "tests.support.s3"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language (English).

    A request activates its language for the thread (``LocaleMiddleware``) and
    nothing switches it back, so without this a German page in one test would
    leave the next test's direct action calls speaking German.
    """
    translation.deactivate()
    yield
    translation.deactivate()


def missing_service(what: str) -> None:
    """A test needs a service that is not here: a failure in CI, a skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> None:
    """New passwords with few PBKDF2 rounds (tests/support/hashers.py); checks as before."""
    from django.conf import settings
    from django.test.signals import setting_changed

    quick = ["tests.support.hashers.QuickPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    settings.PASSWORD_HASHERS = quick
    # What override_settings sends: Django's receiver clears its cached hashers.
    setting_changed.send(sender=None, setting="PASSWORD_HASHERS", value=quick, enter=True)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Put the SQLite test database in a file, so worker processes can open it too."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        db.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture
def hotline_a(db: Any) -> Organisation:
    return do_create_organisation("Hotline A", "hotline", "DK")


@pytest.fixture
def hotline_b(db: Any) -> Organisation:
    return do_create_organisation("Hotline B", "hotline", "NL")


@pytest.fixture
def police_org(db: Any) -> Organisation:
    return do_create_organisation("Police DK", "lea", "DK")


@pytest.fixture
def isp_org(db: Any) -> Organisation:
    return do_create_organisation("ISP DK", "isp", "DK")


@pytest.fixture
def analyst(hotline_a: Organisation) -> User:
    return do_create_user("alice", hotline_a, Role.ANALYST, password="correct horse 1")


@pytest.fixture
def admin(hotline_a: Organisation) -> User:
    return do_create_user("adam", hotline_a, Role.ADMIN, password="correct horse 2")


@pytest.fixture
def outsider(hotline_b: Organisation) -> User:
    return do_create_user("oscar", hotline_b, Role.ANALYST, password="correct horse 3")


@pytest.fixture
def police(police_org: Organisation) -> User:
    return do_create_user("paula", police_org, Role.POLICE_OFFICER, password="correct horse 4")


@pytest.fixture
def isp_operator(isp_org: Organisation) -> User:
    return do_create_user("ivan", isp_org, Role.ISP_OPERATOR, password="correct horse 5")


def verified_client(user: User) -> Client:
    """A client logged in as ``user`` with a confirmed second factor."""
    client = Client()
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, defaults={"name": "test", "confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def as_user() -> Iterator[Any]:
    yield verified_client
