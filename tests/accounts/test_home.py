"""Every role lands on its own page after login, and ``/`` takes it there again."""

from __future__ import annotations

import pytest
from django.test import Client

from openhotline.accounts.actions import do_add_membership, do_create_user
from openhotline.accounts.home import home_url
from openhotline.accounts.models import Organisation, Role, User

pytestmark = pytest.mark.django_db


def log_in(username: str, password: str, settings) -> str:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    return response["Location"]


def test_an_analyst_lands_on_the_queue(analyst: User, settings) -> None:
    assert log_in("alice", "correct horse 1", settings) == "/app/"


def test_a_police_officer_lands_on_the_portal(police: User, settings) -> None:
    assert log_in("paula", "correct horse 4", settings) == "/lea/"


def test_an_interpol_officer_lands_on_the_portal(db, settings) -> None:
    from openhotline.accounts.actions import do_create_organisation

    interpol = do_create_organisation("INTERPOL", "interpol", "FR")
    do_create_user("ines", interpol, Role.INTERPOL_OFFICER, password="correct horse 9")
    assert log_in("ines", "correct horse 9", settings) == "/lea/"


def test_an_analyst_who_is_also_admin_lands_on_the_queue(
    analyst: User, hotline_a: Organisation
) -> None:
    do_add_membership(analyst, hotline_a, Role.ADMIN)
    assert home_url(analyst) == "/app/"


def test_the_root_sends_each_user_home(police: User, as_user) -> None:
    response = as_user(police).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/lea/"


def test_the_root_sends_a_visitor_to_the_login() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_a_next_url_on_this_site_still_wins(police: User, settings) -> None:
    settings.OPENHOTLINE_REQUIRE_2FA = False
    response = Client().post(
        "/accounts/login/?next=/lea/referrals/",
        {"username": "paula", "password": "correct horse 4"},
    )
    assert response["Location"] == "/lea/referrals/"
