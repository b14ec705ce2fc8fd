"""An ISP's and a partner's own API keys: made in the interface, shown once, revoked."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from openhotline.accounts.access import get_api_key
from openhotline.accounts.actions import do_create_api_key, do_create_organisation, do_create_user
from openhotline.accounts.models import ApiKey, Organisation, Role, User
from openhotline.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_isp_operator_creates_a_key_shown_once_and_revokes_it(
    isp_org: Organisation, isp_operator: User, as_user
) -> None:
    client = as_user(isp_operator)
    response = client.post("/app/keys/new/", {"name": "resolver 2", "scope": "read"})
    assert response["Cache-Control"] == "no-store"
    secret = re.search(r"oh_[0-9a-f]{8}_[\w-]+", response.content.decode())
    assert secret is not None
    key = get_api_key(secret.group(0))
    assert key is not None and key.organisation == isp_org and key.created_by == isp_operator
    listing = client.get("/app/keys/").content.decode()
    assert "resolver 2" in listing and secret.group(0) not in listing
    client.post(f"/app/keys/{key.prefix}/revoke/")
    assert get_api_key(secret.group(0)) is None
    assert AuditEvent.objects.filter(action="api_key.revoked", actor=isp_operator).count() == 1
    client.post(f"/app/keys/{key.prefix}/revoke/")
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_a_partner_manages_its_keys(db) -> None:
    org = do_create_organisation("Partner", "partner", "DK")
    user = do_create_user("pia", org, Role.PARTNER, password="correct horse 13")
    from tests.conftest import verified_client

    client = verified_client(user)
    assert client.get("/app/keys/").status_code == 200
    client.post("/app/keys/new/", {"name": "cms", "scope": "read_write"})
    assert ApiKey.objects.get(organisation=org).can_write()


def test_staff_have_no_key_page(analyst: User, admin: User, as_user) -> None:
    for user in (analyst, admin):
        client = as_user(user)
        assert client.get("/app/keys/").status_code == 404
        assert client.post("/app/keys/new/", {"name": "x", "scope": "read"}).status_code == 404


def test_another_organisations_key_cannot_be_revoked(
    isp_org: Organisation, isp_operator: User, as_user
) -> None:
    other = do_create_organisation("ISP two", "isp", "DK")
    other_key, secret = do_create_api_key(other, "theirs", "read")
    response = as_user(isp_operator).post(f"/app/keys/{other_key.prefix}/revoke/")
    assert response.status_code == 404
    assert get_api_key(secret) is not None
    assert Client().get("/app/keys/").status_code == 302
