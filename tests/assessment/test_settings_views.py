from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.classification import do_classify_item, do_confirm_item
from openhotline.assessment.actions.four_eyes import four_eyes_matrix
from openhotline.assessment.models import ItemStatus, PriorityRule, ReviewState, WorkspaceSettings
from openhotline.assessment.priority import DEFAULT_RULES
from tests.assessment.conftest import items_of, make_page

pytestmark = pytest.mark.django_db


def rules_post(**changes: Any) -> dict[str, str]:
    data: dict[str, str] = {}
    for rule in DEFAULT_RULES:
        data[f"{rule.kind}-enabled"] = "on"
        data[f"{rule.kind}-weight"] = str(rule.weight)
        data[f"{rule.kind}-cap"] = "" if rule.cap is None else str(rule.cap)
        data[f"{rule.kind}-threshold"] = "" if rule.threshold is None else str(rule.threshold)
    data.update(changes)
    return data


def test_an_admin_edits_the_priority_rules_and_the_queue_is_rescored(
    admin: User,
    hotline_a: Organisation,
    as_user: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    rescored: list[int] = []
    monkeypatch.setattr(
        "openhotline.assessment.tasks.recompute_open_priorities.delay", rescored.append
    )
    client = as_user(admin)
    assert "Known viral material" in client.get(f"/app/settings/{hotline_a.slug}/").content.decode()
    data = rules_post(**{"media_count-weight": "3", "own_country-enabled": ""})
    data.pop("own_country-enabled")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/app/settings/{hotline_a.slug}/rules", data)
    assert response.status_code == 302
    saved = {r.kind: (r.enabled, r.weight) for r in PriorityRule.objects.filter(hotline=hotline_a)}
    assert saved["media_count"] == (True, 3) and saved["own_country"] == (False, 25)
    assert rescored == [hotline_a.pk]


def test_an_admin_sets_the_four_eyes_matrix_and_claim_time(
    admin: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    client = as_user(admin)
    client.post(
        f"/app/settings/{hotline_a.slug}/four-eyes",
        {"fe-national-new": "1", "fe-baseline-new": "1"},
    )
    assert four_eyes_matrix(hotline_a.pk) == {("national", "new"), ("baseline", "new")}
    client.post(f"/app/settings/{hotline_a.slug}/claims", {"claim_idle_minutes": "12"})
    assert WorkspaceSettings.objects.get(hotline=hotline_a).claim_idle_minutes == 12


@pytest.mark.parametrize("persona", ["analyst", "outsider", "police"])
def test_only_the_hotlines_admin_reaches_its_settings(
    persona: str,
    request: pytest.FixtureRequest,
    hotline_a: Organisation,
    as_user: Callable[[User], Client],
) -> None:
    client = as_user(request.getfixturevalue(persona))
    slug = hotline_a.slug
    assert client.get(f"/app/settings/{slug}/").status_code == 404
    assert client.post(f"/app/settings/{slug}/rules", rules_post()).status_code == 404
    assert client.post(f"/app/settings/{slug}/four-eyes", {}).status_code == 404
    assert (
        client.post(f"/app/settings/{slug}/claims", {"claim_idle_minutes": "1"}).status_code == 404
    )
    assert not PriorityRule.objects.exists() and not WorkspaceSettings.objects.exists()


def test_a_senior_confirms_from_the_list(
    analyst: User, senior: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    item = items_of(make_page(hotline_a, "http://fe.test/", images=1, first_seed=40))[0]
    do_classify_item(hotline_a, item, "baseline", analyst=analyst)
    client = as_user(senior)
    assert item.code in client.get("/app/confirm/").content.decode()
    # Blind by default: the senior gives a verdict of their own; the same one confirms.
    client.post(
        f"/app/confirm/{item.code}/opinion", {"hotline": hotline_a.pk, "verdict": "baseline"}
    )
    assert ItemStatus.objects.get(media_item=item).review_state == ReviewState.FINAL


def test_an_analyst_cannot_confirm_but_settles_a_dispute(
    analyst: User,
    analyst2: User,
    senior: User,
    hotline_a: Organisation,
    as_user: Callable[[User], Client],
) -> None:
    item = items_of(make_page(hotline_a, "http://dispute.test/", images=1, first_seed=41))[0]
    status = do_classify_item(hotline_a, item, "baseline", analyst=analyst)
    as_user(analyst2).post(f"/app/confirm/{item.code}/agree", {"hotline": hotline_a.pk})
    status.refresh_from_db()
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    do_confirm_item(status, senior, agree=False, verdict="national")
    as_user(analyst2).post(
        f"/app/confirm/{item.code}/settle", {"hotline": hotline_a.pk, "verdict": "national"}
    )
    status.refresh_from_db()
    assert status.is_in_force() and status.current.verdict == "national"


def test_the_outsider_sees_and_decides_nothing_of_ours(
    analyst: User, outsider: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    item = items_of(make_page(hotline_a, "http://x.test/", images=1, first_seed=42))[0]
    do_classify_item(hotline_a, item, "baseline", analyst=analyst)
    client = as_user(outsider)
    assert item.code not in client.get("/app/confirm/").content.decode()
    for action in ("agree", "disagree", "settle"):
        response = client.post(
            f"/app/confirm/{item.code}/{action}", {"hotline": hotline_a.pk, "verdict": "national"}
        )
        assert response.status_code == 404
    assert ItemStatus.objects.get(media_item=item).review_state == ReviewState.AWAITING_CONFIRMATION
