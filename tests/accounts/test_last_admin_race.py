"""The last-admin guard under real concurrency: two processes each take away one of two admins.

Each racer runs the admin pages' own action (``do_set_roles`` or
``do_deactivate_user``) and keeps its transaction open a moment after the
check, as a slow request would. Both check "another active admin is left"
at the same time; without a lock each would see the other admin still
there and both would win, leaving the hotline with none. The actions lock
the hotline's row first, so the second one sees the first's change: one
wins, one is refused, and one admin remains.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Membership, Organisation, Role, User
from tests.support.racers import Racers, postgres_only

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), postgres_only]


@pytest.fixture(scope="module")
def racers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Racers]:
    with Racers(2, os.environ["OPENHOTLINE_DATA"]) as started:
        yield started


@pytest.fixture
def second_admin(hotline_a: Organisation) -> User:
    user = do_create_user("ada", hotline_a, Role.ADMIN, password="correct horse 77")
    Membership.objects.create(user=user, organisation=hotline_a, role=Role.ANALYST)
    return user


def active_admins(hotline: Organisation) -> list[str]:
    return sorted(
        Membership.objects.filter(
            organisation=hotline, role=Role.ADMIN, user__is_active=True
        ).values_list("user__username", flat=True)
    )


RACE = "tests.accounts.admin_race.take_admin_away"


@pytest.mark.parametrize(
    ("first", "second"),
    [("roles", "roles"), ("deactivate", "deactivate"), ("roles", "deactivate")],
)
def test_two_admins_taken_away_at_once_leave_one(
    racers: Racers,
    hotline_a: Organisation,
    admin: User,
    second_admin: User,
    first: str,
    second: str,
) -> None:
    assert connection.vendor == "postgresql"
    Membership.objects.create(user=admin, organisation=hotline_a, role=Role.ANALYST)
    # Each admin takes the other's admin away (one cannot deactivate oneself).
    answers = racers.run_each(
        RACE,
        [
            (first, hotline_a.pk, second_admin.pk, admin.pk),
            (second, hotline_a.pk, admin.pk, second_admin.pk),
        ],
    )
    assert sorted(answers) == ["done", "refused"]
    assert len(active_admins(hotline_a)) == 1
    winner = answers.index("done")
    kept = admin if winner == 0 else second_admin
    assert active_admins(hotline_a) == [kept.username]
