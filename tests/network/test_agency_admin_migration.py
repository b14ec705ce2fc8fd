"""The officer profile's agency-admin flag became the ``agency_admin`` role (network.0006)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from openhotline.accounts.models import Membership, Organisation, Role, User

BEFORE = [("network", "0005_police_priority_feedback_officer_keys")]


def agency_admins() -> set[tuple[str, str]]:
    return set(
        Membership.objects.filter(role=Role.AGENCY_ADMIN).values_list(
            "user__username", "organisation__name"
        )
    )


@pytest.mark.django_db(transaction=True)
def test_flagged_officers_become_agency_admins_of_their_seat_and_back(
    police: User, police_org: Organisation, interpol: User, interpol_org: Organisation
) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    profile = old_apps.get_model("network", "OfficerProfile")
    profile.objects.create(user_id=police.pk, agency_admin=True)
    profile.objects.create(user_id=interpol.pk, agency_admin=False)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert agency_admins() == {(police.username, police_org.name)}

    # Reversible: the role becomes the flag again.
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    flags = old_apps.get_model("network", "OfficerProfile").objects.values_list(
        "user_id", "agency_admin"
    )
    assert set(flags) == {(police.pk, True), (interpol.pk, False)}
    assert agency_admins() == set()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
