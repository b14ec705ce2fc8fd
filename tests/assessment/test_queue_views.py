from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.claims import do_claim_url
from openhotline.assessment.models import UrlClaim, UrlPriority
from openhotline.assessment.priority import compute_scores
from openhotline.reports.models import ReportedUrl, ReportSource, UrlState
from tests.assessment.conftest import items_of, make_page, mark_known

pytestmark = pytest.mark.django_db


def bulk_urls(
    hotline: Organisation, n: int, *, start: int = 0, claimer: User | None = None
) -> None:
    """Queue rows made directly (bulk_create), with scores, explanations and some claims."""
    rng = random.Random(start)
    now = timezone.now()
    urls = ReportedUrl.objects.bulk_create(
        ReportedUrl(
            hotline=hotline,
            url=f"http://bulk{i}.test/",
            normalized_url=f"http://bulk{i}.test/",
            host=f"bulk{i}.test",
            state=UrlState.AWAITING_ASSESSMENT,
            priority=rng.randint(0, 200),
            hosting_country=rng.choice(["DK", "NL", ""]),
            created_at=now - timedelta(hours=rng.randint(0, 500)),
        )
        for i in range(start, start + n)
    )
    UrlPriority.objects.bulk_create(
        UrlPriority(
            reported_url=u,
            score=u.priority,
            explanation=[
                {
                    "kind": "media_count",
                    "label": "Number of media",
                    "value": 3,
                    "weight": 1,
                    "points": 3,
                }
            ],
            new_items=rng.randint(0, 2),
            known_items=rng.randint(0, 2),
            report_count=1,
            sources="public",
        )
        for u in urls
    )
    if claimer is not None:
        UrlClaim.objects.bulk_create(
            UrlClaim(reported_url=u, hotline=hotline, analyst=claimer) for u in urls[::3]
        )


def test_the_queue_costs_the_same_queries_at_any_size(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    bulk_urls(hotline_a, 10, claimer=analyst)
    client.get("/app/")  # session and caches warm
    with CaptureQueriesContext(connection) as few:
        assert client.get("/app/").status_code == 200
    bulk_urls(hotline_a, 1500, start=10, claimer=analyst)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/app/?assignee=me&country=dk")
    assert page.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    body = page.content.decode()
    assert body.count('class="qrow"') == 50
    assert "More than 1000 waiting" in client.get("/app/").content.decode()


def test_pages_follow_each_other_by_score_without_gaps(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    bulk_urls(hotline_a, 120)
    client = as_user(analyst)
    seen: list[int] = []
    query = ""
    for _ in range(4):
        response = client.get(f"/app/?{query}")
        rows = response.context["rows"]
        seen += [row.priority for row in rows]
        query = response.context["next_query"]
        if not query:
            break
    assert len(seen) == 120
    assert seen == sorted(seen, reverse=True)


def test_the_queue_explains_each_score(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://explain.test/", images=2)
    compute_scores([page.pk])
    body = as_user(analyst).get("/app/").content.decode()
    assert "New (unknown) material: <strong>+40</strong>" in body
    assert "Number of media (2 × 1): <strong>+2</strong>" in body


def test_filters_narrow_the_queue(
    analyst: User, analyst2: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    known = make_page(hotline_a, "http://known.test/", images=1)
    mark_known(hotline_a, items_of(known)[0])
    fresh = make_page(hotline_a, "http://fresh.test/", images=1, first_seed=50)
    partner = make_page(hotline_a, "http://partner.test/")
    partner.reports.update(source=ReportSource.PARTNER)
    old = make_page(hotline_a, "http://old.test/")
    ReportedUrl.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=9), hosting_country="NL"
    )
    crawling = make_page(hotline_a, "http://crawling.test/")
    ReportedUrl.objects.filter(pk=crawling.pk).update(state=UrlState.CRAWLING)
    do_claim_url(fresh, analyst2)
    compute_scores([known.pk, fresh.pk, partner.pk, old.pk, crawling.pk])
    client = as_user(analyst)

    def hosts(query: str) -> set[str]:
        return {row.host for row in client.get(f"/app/?{query}").context["rows"]}

    assert hosts("material=known") == {"known.test"}
    assert hosts("material=new") == {"fresh.test"}
    assert hosts("source=partner") == {"partner.test"}
    assert hosts("country=nl") == {"old.test"}
    assert hosts("age=older") == {"old.test"}
    assert hosts("state=crawling") == {"crawling.test"}
    assert hosts("assignee=bob") == {"fresh.test"}
    assert "fresh.test" not in hosts("assignee=none")
    assert hosts("assignee=me") == set()


def test_assessed_urls_leave_the_queue(
    analyst: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    page = make_page(hotline_a, "http://gone.test/")
    ReportedUrl.objects.filter(pk=page.pk).update(state=UrlState.NOT_ILLEGAL)
    assert "gone.test" not in as_user(analyst).get("/app/").content.decode()


def test_take_next_claims_the_best_unclaimed_url(
    analyst: User, analyst2: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    best = make_page(hotline_a, "http://best.test/", escalated=True)
    second = make_page(hotline_a, "http://second.test/", images=1)
    compute_scores([best.pk, second.pk])
    do_claim_url(best, analyst2)
    response = as_user(analyst).post("/app/next/")
    assert response.status_code == 302 and response["Location"] == f"/app/review/{second.code}/"
    assert UrlClaim.objects.get(reported_url=second).analyst == analyst


def test_the_outsider_sees_nothing_of_our_queue(
    outsider: User, hotline_a: Organisation, as_user: Callable[[User], Client]
) -> None:
    make_page(hotline_a, "http://ours.test/")
    client = as_user(outsider)
    assert "ours.test" not in client.get("/app/").content.decode()
    assert "ours.test" not in client.get("/app/?assignee=none&material=new").content.decode()
    response = client.post("/app/next/")
    assert response["Location"] == "/app/"
    assert not UrlClaim.objects.exists()


def test_the_queue_needs_a_login() -> None:
    assert Client().get("/app/").status_code == 302
