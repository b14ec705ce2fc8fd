"""The directory of member hotlines: listed automatically, edited by each hotline's admin."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.network.models import MemberHotline


def test_a_new_hotline_is_listed_for_its_country(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    members = {m.country: m for m in MemberHotline.objects.all()}
    assert members["DK"].organisation == hotline_a and members["NL"].organisation == hotline_b
    assert members["DK"].is_tenant()


def test_an_admin_edits_their_own_entry_only(
    hotline_a: Organisation, hotline_b: Organisation, admin: User, as_user: Any
) -> None:
    own = MemberHotline.objects.get(country="DK")
    other = MemberHotline.objects.get(country="NL")
    client = as_user(admin)
    page = client.get("/app/network/").content.decode()
    assert f"/app/network/members/{own.code}/" in page
    assert f"/app/network/members/{other.code}/" not in page
    response = client.post(
        f"/app/network/members/{own.code}/",
        {"contact_email": "forwards@hotline-a.test", "police_first_hours": "48", "note": ""},
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.police_first_hours == 48
    assert AuditEvent.objects.filter(action="network.member_updated").exists()
    assert client.get(f"/app/network/members/{other.code}/").status_code == 404


@pytest.mark.parametrize(
    ("typed", "kept"), [("0.5", 0.5), ("0.01", 0.01), ("-1", None), ("9000", None), ("x", None)]
)
def test_the_hold_takes_a_fraction_of_an_hour_and_refuses_what_is_out_of_range(
    hotline_a: Organisation, admin: User, as_user: Any, typed: str, kept: float | None
) -> None:
    own = MemberHotline.objects.get(country="DK")
    response = as_user(admin).post(
        f"/app/network/members/{own.code}/",
        {"contact_email": "", "police_first_hours": typed, "note": ""},
    )
    own.refresh_from_db()
    if kept is None:
        assert response.status_code == 200  # the form again, with the error
        assert own.police_first_hours == 0
    else:
        assert response.status_code == 302
        assert own.police_first_hours == kept
        assert f"<td>{typed}</td>" in as_user(admin).get("/app/network/").content.decode()


def test_analysts_outsiders_and_police_cannot_edit(
    hotline_a: Organisation,
    analyst: User,
    outsider: User,
    police: User,
    as_user: Any,
) -> None:
    own = MemberHotline.objects.get(country="DK")
    for user in (analyst, outsider, police):
        response = as_user(user).post(
            f"/app/network/members/{own.code}/", {"police_first_hours": "1"}
        )
        assert response.status_code == 404
    assert as_user(analyst).get("/app/network/").status_code == 200
    assert as_user(police).get("/app/network/").status_code == 404
    own.refresh_from_db()
    assert own.police_first_hours == 0


def test_the_command_adds_an_external_member_and_lists_the_directory(
    hotline_a: Organisation,
) -> None:
    call_command(
        "network",
        "member",
        "set",
        "de",
        "--name",
        "Hotline DE",
        "--email",
        "x@hotline-de.test",
        "--police-hours",
        "12",
        stdout=StringIO(),
    )
    member = MemberHotline.objects.get(country="DE")
    assert not member.is_tenant() and member.police_first_hours == 12
    out = StringIO()
    call_command("network", "member", "list", stdout=out)
    assert "DE  Hotline DE  x@hotline-de.test  police-first 12h" in out.getvalue()
    call_command("network", "member", "set", "DE", "--police-hours", "0.25", stdout=StringIO())
    member.refresh_from_db()
    assert member.police_first_hours == 0.25
    out = StringIO()
    call_command("network", "member", "list", stdout=out)
    assert "DE  Hotline DE  x@hotline-de.test  police-first 0.25h" in out.getvalue()
    for wrong in ("-1", "9000", "nan"):
        with pytest.raises(CommandError):
            call_command("network", "member", "set", "DE", "--police-hours", wrong)
    member.refresh_from_db()
    assert member.police_first_hours == 0.25
    with pytest.raises(CommandError):
        call_command("network", "member", "set", "XX", "--hotline", "hotline-a")
    with pytest.raises(CommandError):
        call_command("network", "member", "set", "SE")
