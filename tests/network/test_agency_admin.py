"""The agency admin: a role in the police force's (or INTERPOL's) user management.

The operator names the first one on the command line; from then on the
agency's admins grant and take the role on the admin pages, as a hotline's
admin does for the hotline. An agency admin edits the agency's priority
rules; nobody outside the agency sees its people or edits its rules.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Membership, Organisation, Role, User
from openhotline.audit.models import AuditEvent
from openhotline.network.models import PolicePriorityRule
from openhotline.network.police_priority import DEFAULT_RULES

pytestmark = pytest.mark.django_db


def rules_form(volume_weight: int) -> dict[str, Any]:
    """The whole table, as the priority page posts it."""
    form: dict[str, Any] = {f"{rule.kind}-weight": rule.weight for rule in DEFAULT_RULES}
    form.update({f"{rule.kind}-enabled": "on" for rule in DEFAULT_RULES})
    form.update({"volume-weight": volume_weight, "volume-cap": 50, "series": ""})
    return form


def volume_weight(org: Organisation) -> int | None:
    row = PolicePriorityRule.objects.filter(organisation=org, kind="volume").first()
    return row.weight if row else None


def roles_of(user: User, org: Organisation) -> set[str]:
    return set(
        Membership.objects.filter(user=user, organisation=org).values_list("role", flat=True)
    )


@pytest.fixture
def chief(police_org: Organisation) -> User:
    user = do_create_user("chief", police_org, Role.POLICE_OFFICER, password="correct horse 61")
    call_command("network", "agency-admin", "chief")
    return user


def test_an_agency_admin_grants_and_takes_the_role_on_the_admin_pages(
    chief: User, police: User, police_org: Organisation, as_user: Any
) -> None:
    assert roles_of(chief, police_org) == {Role.POLICE_OFFICER, Role.AGENCY_ADMIN}
    assert AuditEvent.objects.filter(
        action="lea.agency_admin_set", object_id=str(chief.pk)
    ).exists()
    boss = as_user(chief)
    # "Administration" leads to the agency's own page: its people and its priority.
    assert boss.get("/app/admin/").url == f"/app/admin/{police_org.slug}/"
    home = boss.get(f"/app/admin/{police_org.slug}/").content.decode()
    assert "/lea/priority/" in home and "this agency" in home
    member = boss.get(f"/app/admin/{police_org.slug}/people/{police.username}/").content.decode()
    assert 'value="agency_admin"' in member and 'value="analyst"' not in member
    danish = boss.get(
        f"/app/admin/{police_org.slug}/people/{police.username}/", HTTP_ACCEPT_LANGUAGE="da"
    )
    assert "Myndighedsadministrator" in danish.content.decode()

    officer = as_user(police)
    assert officer.post("/lea/priority/save/", rules_form(7)).status_code == 404
    roles_url = f"/app/admin/{police_org.slug}/people/{police.username}/roles/"
    boss.post(roles_url, {"roles": [Role.POLICE_OFFICER, Role.AGENCY_ADMIN]})
    assert roles_of(police, police_org) == {Role.POLICE_OFFICER, Role.AGENCY_ADMIN}
    event = AuditEvent.objects.filter(action="membership.roles_set").latest("pk")
    assert (event.actor_id, event.detail["added"]) == (chief.pk, [Role.AGENCY_ADMIN])
    # Now an agency admin: the rules page lets them save.
    assert 'name="volume-weight"' in officer.get("/lea/priority/").content.decode()
    assert officer.post("/lea/priority/save/", rules_form(7)).status_code == 302
    assert volume_weight(police_org) == 7

    boss.post(roles_url, {"roles": [Role.POLICE_OFFICER]})
    assert roles_of(police, police_org) == {Role.POLICE_OFFICER}
    assert officer.post("/lea/priority/save/", rules_form(9)).status_code == 404
    assert volume_weight(police_org) == 7

    # The last agency admin keeps the role.
    boss.post(f"/app/admin/{police_org.slug}/people/chief/roles/", {"roles": ["police_officer"]})
    assert Role.AGENCY_ADMIN in roles_of(chief, police_org)


def test_the_command_line_still_grants_and_takes_the_role(
    chief: User, police_org: Organisation, as_user: Any
) -> None:
    call_command("network", "agency-admin", "chief", "--off")
    assert roles_of(chief, police_org) == {Role.POLICE_OFFICER}
    assert AuditEvent.objects.filter(action="lea.agency_admin_unset").count() == 1
    assert as_user(chief).post("/lea/priority/save/", rules_form(3)).status_code == 404
    assert as_user(chief).get(f"/app/admin/{police_org.slug}/").status_code == 404
    with pytest.raises(CommandError, match="no user"):
        call_command("network", "agency-admin", "nobody-here")


def test_outsiders_neither_see_the_agencys_people_nor_edit_its_rules(
    chief: User,
    police: User,
    police_org: Organisation,
    police_nl: User,
    interpol: User,
    admin: User,
    as_user: Any,
) -> None:
    call_command("network", "agency-admin", police_nl.username)
    call_command("network", "agency-admin", interpol.username)
    nl_org = police_nl.memberships.get(role=Role.POLICE_OFFICER).organisation
    slug = police_org.slug
    people_paths = [
        f"/app/admin/{slug}/",
        f"/app/admin/{slug}/people/",
        f"/app/admin/{slug}/people/{police.username}/",
    ]
    # Another force's and INTERPOL's agency admins, the hotline's admin, an officer.
    for outsider in (police_nl, interpol, admin, police):
        client = as_user(outsider)
        for path in people_paths:
            assert client.get(path).status_code == 404, (outsider, path)
        answer = client.post(
            f"/app/admin/{slug}/people/{police.username}/roles/",
            {"roles": [Role.POLICE_OFFICER, Role.AGENCY_ADMIN]},
        )
        assert answer.status_code == 404
        assert client.post(f"/app/admin/{slug}/people/invite/", {}).status_code == 404
    assert roles_of(police, police_org) == {Role.POLICE_OFFICER}

    # The Dutch admin's rules page and save reach only the Dutch rules.
    dutch = as_user(police_nl)
    assert dutch.post("/lea/priority/save/", rules_form(5)).status_code == 302
    assert (volume_weight(nl_org), volume_weight(police_org)) == (5, None)
    # The hotline's admin has no seat in the portal at all.
    assert as_user(admin).get("/lea/priority/").status_code == 404
    assert as_user(admin).post("/lea/priority/save/", rules_form(1)).status_code == 404
    assert volume_weight(police_org) is None


def test_an_agency_admin_invites_an_officer_of_the_agency(
    chief: User, police_org: Organisation, as_user: Any
) -> None:
    page = as_user(chief).post(
        f"/app/admin/{police_org.slug}/people/invite/",
        {"username": "newcop", "role": Role.POLICE_OFFICER, "email": ""},
    )
    assert page.status_code == 200 and "/accounts/enrol/" in page.content.decode()
    assert roles_of(User.objects.get(username="newcop"), police_org) == {Role.POLICE_OFFICER}
    # A hotline's role does not fit a police force.
    as_user(chief).post(
        f"/app/admin/{police_org.slug}/people/invite/",
        {"username": "sneaky", "role": Role.ANALYST, "email": ""},
    )
    assert not User.objects.filter(username="sneaky").exists()
