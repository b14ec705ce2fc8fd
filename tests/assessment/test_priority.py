from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.assessment import priority
from openhotline.assessment.models import PriorityRule, RuleKind, UrlPriority
from openhotline.assessment.priority import Rule, UrlFacts, compute_scores, rule_value, score
from openhotline.assessment.tasks import recompute_open_priorities
from openhotline.evidence.models import UrlMedia
from openhotline.reports.models import ReportedUrl, UrlState
from tests.assessment.conftest import items_of, make_page, mark_known

pytestmark = pytest.mark.django_db


def explained(page: ReportedUrl) -> dict[str, int]:
    info = UrlPriority.objects.get(reported_url=page)
    return {line["kind"]: line["points"] for line in info.explanation}


def test_the_score_is_the_sum_of_the_explained_terms(hotline_a: Organisation) -> None:
    page = make_page(hotline_a, "http://gallery.test/new", images=3)
    compute_scores([page.pk])
    page.refresh_from_db()
    terms = explained(page)
    assert terms == {"new_material": 40, "media_count": 3}
    assert page.priority == sum(terms.values()) == 43


def test_known_viral_material_scores_lower_than_new_material(hotline_a: Organisation) -> None:
    new_page = make_page(hotline_a, "http://a.test/new", images=2, first_seed=1)
    known_page = make_page(hotline_a, "http://b.test/known", images=2, first_seed=11)
    for item in items_of(known_page):
        mark_known(hotline_a, item)
        # Seen on many other pages: viral.
        for n in range(10):
            other = make_page(hotline_a, f"http://copy{n}.test/{item.pk}")
            UrlMedia.objects.create(reported_url=other, media_item=item, source_url="x")
    scores = compute_scores([new_page.pk, known_page.pk])
    assert scores[new_page.pk] > scores[known_page.pk]
    assert explained(known_page) == {"media_count": 2, "known_viral": -30}
    info = UrlPriority.objects.get(reported_url=known_page)
    assert (info.new_items, info.known_items, info.material()) == (0, 2, "known")


def test_a_younger_age_group_from_matches_raises_the_score(hotline_a: Organisation) -> None:
    page = make_page(hotline_a, "http://young.test/", images=2)
    first, second = items_of(page)
    mark_known(hotline_a, first, age_group="prepubescent")
    compute_scores([page.pk])
    assert explained(page)["younger_age"] == 15
    mark_known(hotline_a, second, age_group="infant")
    compute_scores([page.pk])
    assert explained(page)["younger_age"] == 30


def test_escalation_own_country_reports_and_age_count(hotline_a: Organisation) -> None:
    page = make_page(hotline_a, "http://escalated.test/", escalated=True)
    make_page(hotline_a, "http://escalated.test/")  # reported again: linked, not duplicated
    ReportedUrl.objects.filter(pk=page.pk).update(
        hosting_country="DK", created_at=timezone.now() - timedelta(days=30)
    )
    compute_scores([page.pk])
    assert explained(page) == {
        "escalated": 100,
        "own_country": 25,
        "report_count": 5,
        "report_age": 28,  # 2 a day, capped at 14 days
    }


def test_an_admins_rules_replace_the_defaults(hotline_a: Organisation) -> None:
    page = make_page(hotline_a, "http://rules.test/", images=4)
    PriorityRule.objects.create(hotline=hotline_a, kind=RuleKind.MEDIA_COUNT, weight=10, cap=2)
    PriorityRule.objects.create(
        hotline=hotline_a, kind=RuleKind.NEW_MATERIAL, weight=40, enabled=False
    )
    compute_scores([page.pk])
    assert explained(page) == {"media_count": 20}


def test_rules_differ_per_hotline(hotline_a: Organisation, hotline_b: Organisation) -> None:
    ours = make_page(hotline_a, "http://same.test/", images=1)
    theirs = make_page(hotline_b, "http://same.test/", images=1)
    PriorityRule.objects.create(hotline=hotline_b, kind=RuleKind.NEW_MATERIAL, weight=5)
    scores = compute_scores([ours.pk, theirs.pk])
    assert scores == {ours.pk: 41, theirs.pk: 6}


@pytest.mark.parametrize(
    ("kind", "facts", "expected"),
    [
        (RuleKind.NEW_MATERIAL, UrlFacts(1, media={1, 2}, known={1}), 1),
        (RuleKind.NEW_MATERIAL, UrlFacts(1, media={1}, known={1}), 0),
        (RuleKind.MEDIA_COUNT, UrlFacts(1, media=set(range(50))), 20),
        (RuleKind.KNOWN_VIRAL, UrlFacts(1, known={1}, spread={1: 9}), 0),
        (RuleKind.KNOWN_VIRAL, UrlFacts(1, known={1}, spread={1: 10}), 1),
    ],
)
def test_rule_values(kind: str, facts: UrlFacts, expected: int) -> None:
    assert rule_value(priority.DEFAULTS_BY_KIND[kind], facts) == expected


def test_only_rules_that_count_are_explained() -> None:
    total, lines = score(
        [Rule(RuleKind.OWN_COUNTRY, 25), Rule(RuleKind.ESCALATED, 100)], UrlFacts(1)
    )
    assert (total, lines) == (0, [])


def test_new_media_on_a_page_schedules_one_rescore_after_commit(
    hotline_a: Organisation,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[list[int]] = []
    monkeypatch.setattr(
        "openhotline.assessment.tasks.recompute_priorities.delay", lambda ids: sent.append(ids)
    )
    monkeypatch.setattr("openhotline.celery.app.send_task", lambda *a, **k: None)  # the crawl
    with django_capture_on_commit_callbacks(execute=True):
        page = make_page(hotline_a, "http://events.test/", images=3)
    assert sent == [[page.pk]]


def test_a_hash_match_rescores_every_page_of_the_item(
    hotline_a: Organisation,
    hotline_b: Organisation,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[list[int]] = []
    monkeypatch.setattr(
        "openhotline.assessment.tasks.recompute_priorities.delay", lambda ids: sent.append(ids)
    )
    monkeypatch.setattr("openhotline.celery.app.send_task", lambda *a, **k: None)  # the crawl
    with django_capture_on_commit_callbacks(execute=True):
        page = make_page(hotline_a, "http://match.test/", images=1)
        other = make_page(hotline_b, "http://match.test/")
        UrlMedia.objects.create(reported_url=other, media_item=items_of(page)[0], source_url="x")
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        mark_known(hotline_a, items_of(page)[0])
    assert sent == [[page.pk]]  # not the other hotline's page: the match is ours


def test_the_scheduled_recompute_scores_waiting_urls_only(hotline_a: Organisation) -> None:
    waiting = make_page(hotline_a, "http://wait.test/", images=1)
    done = make_page(hotline_a, "http://done.test/", images=1)
    ReportedUrl.objects.filter(pk=done.pk).update(state=UrlState.NOT_ILLEGAL)
    assert recompute_open_priorities() == 1
    assert UrlPriority.objects.filter(reported_url=waiting).exists()
    assert not UrlPriority.objects.filter(reported_url=done).exists()
