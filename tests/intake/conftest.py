"""Fixtures of the intake tests: partners with API keys, and a reporter's client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.actions import (
    do_create_api_key,
    do_create_organisation,
    do_revoke_api_key,
)
from openhotline.accounts.models import Organisation


@pytest.fixture
def partner_org(db: Any) -> Organisation:
    return do_create_organisation("Platform Partner", "partner", "DK")


@pytest.fixture
def other_partner_org(db: Any) -> Organisation:
    return do_create_organisation("Other Partner", "partner", "NL")


@pytest.fixture
def partner_key(partner_org: Organisation) -> str:
    return do_create_api_key(partner_org, "intake", "read_write")[1]


@pytest.fixture
def other_partner_key(other_partner_org: Organisation) -> str:
    return do_create_api_key(other_partner_org, "intake", "read_write")[1]


@pytest.fixture
def read_only_key(partner_org: Organisation) -> str:
    return do_create_api_key(partner_org, "reader", "read")[1]


@pytest.fixture
def revoked_key(partner_org: Organisation) -> str:
    key, secret = do_create_api_key(partner_org, "old", "read_write")
    do_revoke_api_key(key)
    return secret


@pytest.fixture
def reporter() -> Client:
    """A browser that sends CSRF tokens like a real one would (from the form's cookie)."""
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.187")
