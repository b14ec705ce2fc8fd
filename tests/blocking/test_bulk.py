"""Bulk approvals on the blocklist: the per-entry action and guards for each selected row."""

from __future__ import annotations

import pytest

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.blocking.actions.entries import do_propose_entry
from openhotline.blocking.models import BlocklistEntry, BlocklistSource, EntryState

pytestmark = pytest.mark.django_db


def propose(hotline: Organisation, source: BlocklistSource, actor: User, n: int) -> list[str]:
    return [
        do_propose_entry(
            hotline,
            value=f"http://bad.test/{actor.username}/{i}",
            kind="url",
            source=source,
            actor=actor,
        ).code
        for i in range(n)
    ]


def test_a_senior_approves_selected_entries_and_sees_the_refusals(
    hotline_a: Organisation, analyst: User, senior: User, assessment: BlocklistSource, as_user
) -> None:
    theirs = propose(hotline_a, assessment, analyst, 3)
    own = propose(hotline_a, assessment, senior, 1)
    client = as_user(senior)
    page = client.post(
        f"/app/blocking/{hotline_a.slug}/approve-selected/",
        {"codes": [*theirs, *own, "BNOSUCHCODE"]},
        follow=True,
    ).content.decode()
    states = dict(BlocklistEntry.objects.values_list("code", "state"))
    assert all(states[c] == EntryState.APPROVED for c in theirs)
    assert states[own[0]] == EntryState.PROPOSED  # four-eyes: not their own
    assert "Done for 3 selected" in page
    assert "Refused for 2" in page and f"{own[0]}: four-eyes" in page
    assert "BNOSUCHCODE: no such entry" in page


def test_an_analyst_cannot_bulk_approve(
    hotline_a: Organisation, analyst: User, senior: User, assessment: BlocklistSource, as_user
) -> None:
    codes = propose(hotline_a, assessment, senior, 2)
    page = (
        as_user(analyst)
        .post(f"/app/blocking/{hotline_a.slug}/approve-selected/", {"codes": codes}, follow=True)
        .content.decode()
    )
    assert "not a senior analyst" in page
    assert set(BlocklistEntry.objects.values_list("state", flat=True)) == {EntryState.PROPOSED}


def test_bulk_reject_applies_the_proposer_or_senior_rule(
    hotline_a: Organisation, analyst: User, senior: User, assessment: BlocklistSource, as_user
) -> None:
    mine = propose(hotline_a, assessment, analyst, 2)
    other = do_create_user("ole", hotline_a, Role.ANALYST, password="correct horse 20")
    theirs = propose(hotline_a, assessment, other, 1)
    as_user(analyst).post(
        f"/app/blocking/{hotline_a.slug}/reject-selected/",
        {"codes": [*mine, *theirs], "reason": "duplicates"},
    )
    states = dict(BlocklistEntry.objects.values_list("code", "state"))
    assert [states[c] for c in mine] == [EntryState.DELISTED, EntryState.DELISTED]
    assert states[theirs[0]] == EntryState.PROPOSED


def test_another_hotline_cannot_touch_the_entries(
    hotline_a: Organisation, analyst: User, assessment: BlocklistSource, hotline_b, as_user
) -> None:
    codes = propose(hotline_a, assessment, analyst, 2)
    other_senior = do_create_user(
        "bea", hotline_b, Role.SENIOR_ANALYST, password="correct horse 21"
    )
    client = as_user(other_senior)
    assert (
        client.post(
            f"/app/blocking/{hotline_a.slug}/approve-selected/", {"codes": codes}
        ).status_code
        == 404
    )
    # Its own list's URL with these codes: not found there, refused row by row.
    page = client.post(
        f"/app/blocking/{hotline_b.slug}/approve-selected/", {"codes": codes}, follow=True
    ).content.decode()
    assert "no such entry" in page
    assert set(BlocklistEntry.objects.values_list("state", flat=True)) == {EntryState.PROPOSED}
