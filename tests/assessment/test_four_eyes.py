from __future__ import annotations

import pytest

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.classification import do_classify_item
from openhotline.assessment.actions.four_eyes import (
    do_set_four_eyes,
    is_known_material,
    requires_confirmation,
)
from openhotline.assessment.models import ClassificationSource, ReviewState
from openhotline.assessment.signals import known_material_asked
from openhotline.evidence.models import MediaItem
from openhotline.matching.models import HashEntry, HashKind, HashSet, Match, Trust
from openhotline.matching.receivers import _known_by_an_exact_trusted_match
from tests.assessment.conftest import items_of, make_page

pytestmark = pytest.mark.django_db


def test_by_default_every_illegal_verdict_on_new_material_waits(hotline_a: Organisation) -> None:
    assert requires_confirmation(hotline_a.pk, "baseline", new_material=True)
    assert requires_confirmation(hotline_a.pk, "national", new_material=True)
    assert not requires_confirmation(hotline_a.pk, "not_illegal", new_material=True)
    # Items matched exactly to a set the hotline trusts are the exception.
    assert not requires_confirmation(hotline_a.pk, "baseline", new_material=False)
    assert not requires_confirmation(hotline_a.pk, "national", new_material=False)


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


def _match(item: MediaItem, *, trust: str, kind: str, owner: Organisation | None = None) -> HashSet:
    hash_set = HashSet.objects.create(name=f"{trust} {kind}", trust=trust, owner=owner)
    entry = HashEntry.objects.create(hash_set=hash_set, key=f"sha256:{item.sha256}")
    Match.objects.create(media_item=item, hash_set=hash_set, entry=entry, kind=kind, distance=0)
    return hash_set


def test_an_exact_match_with_a_trusted_set_does_not_wait(
    hotline_a: Organisation, analyst: User
) -> None:
    exact, near, indicative = items_of(make_page(hotline_a, "http://m.test/", images=3))
    _match(exact, trust=Trust.TRUSTED, kind=HashKind.SHA256)
    _match(near, trust=Trust.TRUSTED, kind=HashKind.PDQ)
    _match(indicative, trust=Trust.INDICATIVE, kind=HashKind.MD5)
    for item, held in ((exact, False), (near, True), (indicative, True)):
        status = do_classify_item(
            hotline_a, item, "baseline", analyst=None, source=ClassificationSource.HASH_MATCH
        )
        assert (status.review_state == ReviewState.AWAITING_CONFIRMATION) is held, item
    # An analyst's verdict on an exactly matched item takes effect too.
    status = do_classify_item(hotline_a, exact, "national", analyst=analyst)
    assert status.review_state == ReviewState.FINAL


def test_a_trusted_set_of_another_hotline_does_not_count(
    hotline_a: Organisation, hotline_b: Organisation, analyst: User
) -> None:
    item = items_of(make_page(hotline_a, "http://o.test/", images=1))[0]
    _match(item, trust=Trust.TRUSTED, kind=HashKind.SHA256, owner=hotline_b)
    status = do_classify_item(hotline_a, item, "baseline", analyst=analyst)
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION


def test_forwarded_classifications_never_wait(hotline_a: Organisation, admin: User) -> None:
    do_set_four_eyes(hotline_a, {("baseline", "known"), ("baseline", "new")}, actor=admin)
    item = items_of(make_page(hotline_a, "http://m.test/", images=1))[0]
    status = do_classify_item(
        hotline_a, item, "baseline", analyst=None, source=ClassificationSource.FORWARDED
    )
    assert status.review_state == ReviewState.FINAL


def test_a_set_made_inactive_or_untrusted_stops_making_its_items_known_at_once(
    hotline_a: Organisation, analyst: User
) -> None:
    # Matching answers assessment's question from the rows as they are when it is asked.
    item = items_of(make_page(hotline_a, "http://k.test/", images=1))[0]
    hash_set = _match(item, trust=Trust.TRUSTED, kind=HashKind.MD5)
    assert is_known_material(hotline_a.pk, item.pk)
    hash_set.active = False
    hash_set.save(update_fields=["active"])
    assert not is_known_material(hotline_a.pk, item.pk)
    status = do_classify_item(hotline_a, item, "baseline", analyst=analyst)
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    hash_set.active, hash_set.trust = True, Trust.INDICATIVE
    hash_set.save(update_fields=["active", "trust"])
    assert not is_known_material(hotline_a.pk, item.pk)
    hash_set.trust = Trust.TRUSTED
    hash_set.save(update_fields=["trust"])
    status = do_classify_item(hotline_a, item, "baseline", analyst=analyst)
    assert status.review_state == ReviewState.FINAL


def test_with_no_app_answering_an_item_counts_as_new_material(
    hotline_a: Organisation, analyst: User
) -> None:
    item = items_of(make_page(hotline_a, "http://n.test/", images=1))[0]
    _match(item, trust=Trust.TRUSTED, kind=HashKind.SHA256)
    assert known_material_asked.disconnect(dispatch_uid="matching.known_by_exact_trusted_match")
    try:
        status = do_classify_item(hotline_a, item, "baseline", analyst=analyst)
    finally:
        known_material_asked.connect(
            _known_by_an_exact_trusted_match, dispatch_uid="matching.known_by_exact_trusted_match"
        )
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    assert is_known_material(hotline_a.pk, item.pk)
