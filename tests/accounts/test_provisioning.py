from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openhotline.accounts.access import get_api_key
from openhotline.accounts.actions import (
    AccountError,
    do_create_api_key,
    do_create_organisation,
    do_revoke_api_key,
)
from openhotline.accounts.models import ApiKey, Membership, Organisation, User
from openhotline.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_org_add_creates_an_audited_organisation() -> None:
    output = run("org", "add", "Hotline Iceland", "--kind", "hotline", "--country", "is")
    org = Organisation.objects.get(name="Hotline Iceland")
    assert org.country == "IS" and org.kind == "hotline" and org.slug == "hotline-iceland"
    assert "slug hotline-iceland" in output
    assert AuditEvent.objects.filter(action="organisation.created", object_id=str(org.pk)).exists()


def test_org_add_refuses_unknown_country() -> None:
    with pytest.raises(CommandError, match="unknown country code 'XX'"):
        run("org", "add", "Nowhere", "--kind", "hotline", "--country", "XX")
    assert not Organisation.objects.exists()


def test_user_add_reads_password_file(tmp_path: Path) -> None:
    do_create_organisation("Hotline DK", "hotline", "DK")
    password_file = tmp_path / "pw"
    password_file.write_text("a long enough passphrase\n")
    run(
        "user",
        "add",
        "sofie",
        "--org",
        "Hotline DK",
        "--role",
        "senior_analyst",
        "--password-file",
        str(password_file),
    )
    user = User.objects.get(username="sofie")
    assert user.check_password("a long enough passphrase")
    assert Membership.objects.get(user=user).role == "senior_analyst"


def test_user_add_generates_a_password_shown_once() -> None:
    do_create_organisation("Hotline DK", "hotline", "DK")
    output = run("user", "add", "bo", "--org", "hotline-dk", "--role", "analyst")
    password = output.split("password (shown once): ")[1].strip()
    assert User.objects.get(username="bo").check_password(password)


def test_user_add_refuses_a_role_that_does_not_fit_the_organisation() -> None:
    do_create_organisation("ISP", "isp", "DK")
    with pytest.raises(CommandError, match="does not fit a isp organisation"):
        run("user", "add", "eve", "--org", "ISP", "--role", "analyst")
    assert not User.objects.filter(username="eve").exists()


def test_user_add_refuses_unknown_organisation() -> None:
    with pytest.raises(CommandError, match="no organisation named"):
        run("user", "add", "eve", "--org", "Nope", "--role", "analyst")


def test_api_key_is_stored_hashed_and_found_by_its_secret(hotline_a: Organisation) -> None:
    key, full_key = do_create_api_key(hotline_a, "partner feed", "read")
    stored = ApiKey.objects.get(pk=key.pk)
    assert full_key.startswith(f"oh_{stored.prefix}_")
    assert full_key.split("_", 2)[2] not in stored.secret_hash
    assert get_api_key(full_key) == stored
    assert get_api_key(full_key[:-1] + ("A" if full_key[-1] != "A" else "B")) is None
    assert get_api_key("not a key") is None
    assert not stored.can_write()


def test_revoked_api_key_no_longer_works(hotline_a: Organisation) -> None:
    key, full_key = do_create_api_key(hotline_a, "old", "read_write")
    do_revoke_api_key(key)
    assert get_api_key(full_key) is None
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_duplicate_organisation_is_refused(hotline_a: Organisation) -> None:
    with pytest.raises(AccountError, match="already exists"):
        do_create_organisation("Hotline A", "hotline", "DK")
