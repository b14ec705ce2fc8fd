from __future__ import annotations

import pytest

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions import do_classify_item
from openhotline.assessment.four_eyes import do_set_four_eyes, requires_confirmation
from openhotline.assessment.models import ClassificationSource, ReviewState
from tests.assessment.conftest import items_of, make_page

pytestmark = pytest.mark.django_db


def test_by_default_only_baseline_on_new_material_waits(hotline_a: Organisation) -> None:
    assert requires_confirmation(hotline_a.pk, "baseline", new_material=True)
    assert not requires_confirmation(hotline_a.pk, "baseline", new_material=False)
    assert not requires_confirmation(hotline_a.pk, "national", new_material=True)


def test_an_admins_matrix_replaces_the_default(
    hotline_a: Organisation, hotline_b: Organisation, admin: User, analyst: User
) -> None:
    do_set_four_eyes(hotline_a, {("national", "new"), ("not_illegal", "known")}, actor=admin)
    assert requires_confirmation(hotline_a.pk, "national", new_material=True)
    assert requires_confirmation(hotline_a.pk, "not_illegal", new_material=False)
    assert not requires_confirmation(hotline_a.pk, "baseline", new_material=True)
    # Another hotline keeps its own (default) rules.
    assert requires_confirmation(hotline_b.pk, "baseline", new_material=True)
    first, second = items_of(make_page(hotline_a, "http://fe.test/", images=2))
    status = do_classify_item(hotline_a, first, "national", analyst=analyst)
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    status = do_classify_item(hotline_a, second, "baseline", analyst=analyst)
    assert status.review_state == ReviewState.FINAL


def test_an_empty_matrix_means_nothing_waits(hotline_a: Organisation, admin: User) -> None:
    do_set_four_eyes(hotline_a, set(), actor=admin)
    assert not requires_confirmation(hotline_a.pk, "baseline", new_material=True)


def test_machine_classifications_never_wait(hotline_a: Organisation, admin: User) -> None:
    do_set_four_eyes(hotline_a, {("baseline", "known"), ("baseline", "new")}, actor=admin)
    item = items_of(make_page(hotline_a, "http://m.test/", images=1))[0]
    status = do_classify_item(
        hotline_a, item, "baseline", analyst=None, source=ClassificationSource.HASH_MATCH
    )
    assert status.review_state == ReviewState.FINAL
