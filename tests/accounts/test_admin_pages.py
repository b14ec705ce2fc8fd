"""The hotline admin's pages: invitations, roles, deactivation, second-factor resets."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.actions import (
    AccountError,
    do_create_user,
    do_deactivate_user,
    do_invite_user,
    do_reset_second_factor,
    do_set_roles,
)
from openhotline.accounts.models import EnrolmentLink, Membership, Organisation, Role, User
from openhotline.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_invitation_makes_an_account_without_a_password_and_a_link(
    hotline_a: Organisation, admin: User
) -> None:
    user, token = do_invite_user(hotline_a, "nina", Role.ANALYST, actor=admin)
    assert not user.has_usable_password()
    assert EnrolmentLink.objects.get(user=user).is_usable()
    assert token
    assert Membership.objects.get(user=user).role == Role.ANALYST


def test_an_invitee_chooses_a_password_then_enrols(hotline_a: Organisation, admin: User) -> None:
    user, token = do_invite_user(hotline_a, "nina", Role.ANALYST, actor=admin)
    client = Client()
    page = client.get(f"/accounts/enrol/{token}/")
    assert "Choose a password" in page.content.decode() or "new_password1" in page.content.decode()
    weak = client.post(
        f"/accounts/enrol/{token}/", {"new_password1": "abc", "new_password2": "abc"}
    )
    assert weak.status_code == 200
    user.refresh_from_db()
    assert not user.has_usable_password()
    done = client.post(
        f"/accounts/enrol/{token}/",
        {"new_password1": "a long passphrase 77", "new_password2": "a long passphrase 77"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a long passphrase 77")
    assert TOTPDevice.objects.filter(user=user, confirmed=False).exists()
    assert AuditEvent.objects.filter(action="user.password_chosen", object_id=str(user.pk)).exists()


def test_the_last_admin_keeps_the_admin_role(hotline_a: Organisation, admin: User) -> None:
    with pytest.raises(AccountError, match="last admin"):
        do_set_roles(admin, hotline_a, {Role.ANALYST}, actor=admin)
    second = do_create_user("ada", hotline_a, Role.ADMIN, password="correct horse 8")
    do_set_roles(admin, hotline_a, {Role.ANALYST, Role.SENIOR_ANALYST}, actor=second)
    assert set(Membership.objects.filter(user=admin).values_list("role", flat=True)) == {
        Role.ANALYST,
        Role.SENIOR_ANALYST,
    }
    assert AuditEvent.objects.filter(action="membership.roles_set").count() == 1


def test_roles_must_fit_a_hotline(hotline_a: Organisation, admin: User, analyst: User) -> None:
    with pytest.raises(AccountError, match="do not fit"):
        do_set_roles(analyst, hotline_a, {Role.POLICE_OFFICER}, actor=admin)
    with pytest.raises(AccountError, match="at least one"):
        do_set_roles(analyst, hotline_a, set(), actor=admin)


def test_a_deactivated_user_cannot_log_in_and_loses_the_session(
    hotline_a: Organisation, admin: User, analyst: User, as_user
) -> None:
    client = as_user(analyst)
    assert client.get("/app/").status_code == 200
    do_deactivate_user(analyst, hotline_a, actor=admin)
    assert client.get("/app/").status_code == 302
    with pytest.raises(AccountError, match="your own"):
        do_deactivate_user(admin, hotline_a, actor=admin)


def test_an_account_of_another_organisation_is_not_deactivated_here(
    hotline_a: Organisation, hotline_b: Organisation, admin: User, outsider: User
) -> None:
    Membership.objects.create(user=outsider, organisation=hotline_a, role=Role.ANALYST)
    with pytest.raises(AccountError, match="another organisation"):
        do_deactivate_user(outsider, hotline_a, actor=admin)


def test_a_reset_removes_the_authenticator_and_issues_a_link(
    hotline_a: Organisation, admin: User, analyst: User
) -> None:
    TOTPDevice.objects.create(user=analyst, name="phone", confirmed=True)
    token = do_reset_second_factor(analyst, hotline_a, actor=admin)
    assert not TOTPDevice.objects.filter(user=analyst).exists()
    assert token and EnrolmentLink.objects.get(user=analyst).is_usable()
    with pytest.raises(AccountError, match="another admin"):
        do_reset_second_factor(admin, hotline_a, actor=admin)


def test_the_admin_invites_through_the_page_and_sees_the_link_once(
    hotline_a: Organisation, admin: User, as_user
) -> None:
    client = as_user(admin)
    response = client.post(
        f"/app/admin/{hotline_a.slug}/people/invite/",
        {"username": "nina", "email": "", "role": Role.SENIOR_ANALYST},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    link = re.search(r"http://testserver/accounts/enrol/[\w-]+/", response.content.decode())
    assert link is not None
    assert Client().get(link.group(0)).status_code == 200
    people = client.get(f"/app/admin/{hotline_a.slug}/people/").content.decode()
    assert "nina" in people and link.group(0) not in people


def test_the_admin_sets_roles_and_deactivates_through_the_pages(
    hotline_a: Organisation, admin: User, analyst: User, as_user
) -> None:
    client = as_user(admin)
    base = f"/app/admin/{hotline_a.slug}/people/alice/"
    client.post(base + "roles/", {"roles": [Role.SENIOR_ANALYST]})
    assert list(Membership.objects.filter(user=analyst).values_list("role", flat=True)) == [
        Role.SENIOR_ANALYST
    ]
    client.post(base + "deactivate/")
    analyst.refresh_from_db()
    assert not analyst.is_active
    client.post(base + "reactivate/")
    analyst.refresh_from_db()
    assert analyst.is_active


def test_the_admin_home_links_every_settings_page(
    hotline_a: Organisation, admin: User, as_user
) -> None:
    client = as_user(admin)
    assert client.get("/app/admin/")["Location"] == f"/app/admin/{hotline_a.slug}/"
    page = client.get(f"/app/admin/{hotline_a.slug}/").content.decode()
    for path in (
        f"/app/settings/{hotline_a.slug}/",
        f"/app/crawler/{hotline_a.slug}/rules/",
        f"/app/blocking/{hotline_a.slug}/protected/",
        f"/app/blocking/{hotline_a.slug}/stop-page/",
        f"/app/takedown/{hotline_a.slug}/templates/",
        f"/app/takedown/{hotline_a.slug}/contacts/",
        f"/app/media/storage/{hotline_a.slug}/",
    ):
        assert f'href="{path}"' in page
        assert client.get(path).status_code == 200, path


def test_the_navigation_shows_administration_once_to_admins(
    hotline_a: Organisation, admin: User, analyst: User, as_user
) -> None:
    assert as_user(admin).get("/app/").content.decode().count('href="/app/admin/"') == 1
    assert 'href="/app/admin/"' not in as_user(analyst).get("/app/").content.decode()


def test_statistics_is_in_the_navigation_once(analyst: User, as_user) -> None:
    page = as_user(analyst).get("/app/stats/").content.decode()
    assert page.count('href="/app/stats/"') <= 2  # the nav, and the overview tab
    assert page.split("</nav>")[0].count('href="/app/stats/"') == 1


def test_an_analyst_is_refused_the_admin_pages(
    hotline_a: Organisation, analyst: User, admin: User, as_user
) -> None:
    client = as_user(analyst)
    assert client.get(f"/app/admin/{hotline_a.slug}/").status_code == 404
    assert client.get(f"/app/admin/{hotline_a.slug}/people/adam/").status_code == 404
    assert client.post(f"/app/admin/{hotline_a.slug}/people/adam/deactivate/").status_code == 404


def test_another_hotlines_admin_is_refused(
    hotline_a: Organisation, hotline_b: Organisation, analyst: User, as_user
) -> None:
    other = do_create_user("bo", hotline_b, Role.ADMIN, password="correct horse 9")
    client = as_user(other)
    assert client.get(f"/app/admin/{hotline_a.slug}/").status_code == 404
    assert client.get(f"/app/admin/{hotline_a.slug}/people/").status_code == 404
    assert client.get(f"/app/admin/{hotline_b.slug}/people/alice/").status_code == 404
    for action in ("roles", "deactivate", "reactivate", "reset-2fa"):
        url = f"/app/admin/{hotline_a.slug}/people/alice/{action}/"
        assert client.post(url, {"roles": [Role.ADMIN]}).status_code == 404
    assert (
        client.post(
            f"/app/admin/{hotline_a.slug}/people/invite/", {"username": "x", "role": "admin"}
        ).status_code
        == 404
    )
    analyst.refresh_from_db()
    assert analyst.is_active


def test_the_admin_home_shows_each_machines_index_serial_and_lag(
    hotline_a: Organisation, admin: User, as_user, settings
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from openhotline.matching.models import IndexChange, IndexReplica

    client = as_user(admin)
    home = f"/app/admin/{hotline_a.slug}/"
    assert "No worker machine has reported" in client.get(home).content.decode()

    settings.OPENHOTLINE_INDEX_MAX_LAG_SECONDS = 10.0
    old = timezone.now() - timedelta(seconds=30)
    first, second = (IndexChange.objects.create(entry_id=n, op="a", created_at=old) for n in (1, 2))
    IndexReplica.objects.create(node="node-a:/index", serial=second.serial)
    IndexReplica.objects.create(node="node-b:/index", serial=first.serial)
    page = client.get(home).content.decode()
    rows = {
        row.split("</td>")[0].removeprefix("<tr><td>"): row
        for row in re.findall(r"<tr><td>.*?</tr>", page)
    }
    assert set(rows) == {"node-a:/index", "node-b:/index"}
    assert f"<td>{second.serial}</td><td>0</td>" in rows["node-a:/index"]
    assert f"<td>{first.serial}</td><td>1</td>" in rows["node-b:/index"]
    assert "too far behind" in rows["node-b:/index"]
    assert "too far behind" not in rows["node-a:/index"]
