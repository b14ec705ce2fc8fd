"""Search in the queue: by URL or part of it, domain, report and item code, and hash.

Results stay within the user's hotlines, and a page costs the same number of
queries whatever the number of URLs and results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.queue import MAX_SCORE, QueueFilters, queue_hotlines, queue_urls
from openhotline.assessment.queue_search import Search, SearchError, parse_search
from openhotline.evidence.models import MediaItem
from openhotline.evidence.tasks import hash_media_item
from openhotline.reports.models import ReportedUrl, UrlState
from tests.assessment.conftest import items_of, make_page
from tests.assessment.test_queue_views import bulk_urls

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("gallery/0", Search("url", "gallery/0")),
        ("url:Gallery", Search("url", "Gallery")),
        (
            "HTTP://Gallery.TEST/a?utm_source=x",
            Search("url", "http://gallery.test/a"),
        ),
        ("domain:Example.TEST", Search("domain", "example.test")),
        ("report:k7qxm2hd9p", Search("report", "K7QXM-2HD9P")),
        ("item:abcdef-ghjklm", Search("item", "ABCDEF-GHJKLM")),
        ("K7QXM-2HD9P", Search("code", "K7QXM-2HD9P", text="K7QXM-2HD9P")),
        ("d41d8cd98f00b204e9800998ecf8427e", Search("md5", "d41d8cd98f00b204e9800998ecf8427e")),
        ("sha1:" + "A" * 40, Search("sha1", "a" * 40)),
        ("sha256:" + "b" * 64, Search("sha256", "b" * 64)),
        ("c" * 64, Search("any_hash", "c" * 64, 31)),
        ("pdq:" + "d" * 64, Search("pdq", "d" * 64, 31)),
        ("pdq:" + "d" * 64 + "~12", Search("pdq", "d" * 64, 12)),
        ("d" * 64 + " ~ 0", Search("pdq", "d" * 64, 0)),
        ("   ", None),
    ],
)
def test_the_search_box_is_read_by_its_shape(typed: str, expected: Search | None) -> None:
    assert parse_search(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["md5:abc", "sha256:" + "g" * 64, "pdq:" + "d" * 64 + "~65", "report:x", "domain:a b", "pdq:"],
)
def test_a_malformed_search_says_how_to_write_it(typed: str) -> None:
    with pytest.raises(SearchError):
        parse_search(typed)


def hashed(page: ReportedUrl) -> list[MediaItem]:
    """The page's items with their perceptual hashes computed (the hashing task, run here)."""
    for item in items_of(page):
        hash_media_item(item.pk)
    return [MediaItem.objects.get(pk=item.pk) for item in items_of(page)]


def flip_bits(pdq: str, n: int) -> str:
    value = int(pdq, 16)
    for bit in range(n):
        value ^= 1 << (bit * 9)
    return f"{value:064x}"


@pytest.fixture
def pages(hotline_a: Organisation) -> dict[str, ReportedUrl]:
    gallery = make_page(hotline_a, "http://gallery.example.test/gallery/0", images=2, first_seed=11)
    board = make_page(hotline_a, "http://board.test/thread/77", images=1, first_seed=31)
    plain = make_page(hotline_a, "http://www.other.test/page")
    ReportedUrl.objects.filter(pk=board.pk).update(state=UrlState.NOT_ILLEGAL)
    return {"gallery": gallery, "board": board, "plain": plain}


def found(client: Client, q: str) -> set[str]:
    response = client.get("/app/", {"q": q})
    assert response.status_code == 200, response.content.decode()[:500]
    return {row.url for row in response.context["rows"]}


def test_each_kind_of_search_finds_its_urls(
    analyst: User, pages: dict[str, ReportedUrl], as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    gallery, board = pages["gallery"], pages["board"]
    first, _second = hashed(gallery)
    (board_item,) = hashed(board)
    assert first.pdq and board_item.pdq

    assert found(client, "gallery/0") == {gallery.url}
    assert found(client, "GALLERY") == {gallery.url}
    assert found(client, "http://gallery.example.test/gallery/0?utm_source=x") == {gallery.url}
    # An assessed URL is found too: a search looks through every state.
    assert found(client, "thread/77") == {board.url}
    assert found(client, "domain:example.test") == {gallery.url}
    assert found(client, "domain:other.test") == {pages["plain"].url}
    assert found(client, "domain:ample.test") == set()
    report = gallery.reports.get()
    assert found(client, f"report:{report.code}") == {gallery.url}
    assert found(client, report.code.replace("-", "").lower()) == {gallery.url}
    assert found(client, gallery.code) == {gallery.url}
    assert found(client, f"item:{board_item.code}") == {board.url}
    assert found(client, board_item.code) == {board.url}
    assert found(client, first.md5) == {gallery.url}
    assert found(client, f"sha1:{first.sha1.upper()}") == {gallery.url}
    assert found(client, first.sha256) == {gallery.url}
    assert found(client, f"sha256:{board_item.sha256}") == {board.url}
    # PDQ: near copies within the distance asked for, not beyond.
    near = flip_bits(first.pdq, 6)
    assert found(client, f"pdq:{near}~8") == {gallery.url}
    assert found(client, f"pdq:{near}~5") == set()
    assert found(client, f"pdq:{first.pdq}~0") == {gallery.url}
    assert gallery.url in found(client, near)  # bare hex: SHA-256 or PDQ within 31


def test_a_state_filter_narrows_a_search(
    analyst: User, pages: dict[str, ReportedUrl], as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    response = client.get("/app/", {"q": "thread/77", "state": "awaiting_assessment"})
    assert list(response.context["rows"]) == []
    response = client.get("/app/", {"q": "thread/77", "state": "not_illegal"})
    assert [row.url for row in response.context["rows"]] == [pages["board"].url]


def test_a_malformed_search_is_refused_with_its_reason(
    analyst: User, pages: dict[str, ReportedUrl], as_user: Callable[[User], Client]
) -> None:
    response = as_user(analyst).get("/app/", {"q": "md5:12345"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "An MD5 hash is 32 hex digits." in body and 'aria-invalid="true"' in body
    assert list(response.context["rows"]) == []


def test_take_next_ignores_the_search(
    analyst: User, pages: dict[str, ReportedUrl], as_user: Callable[[User], Client]
) -> None:
    response = as_user(analyst).post("/app/next/", {"q": "thread/77"})
    # The assessed page the search names is never claimed; a waiting one is.
    assert response.status_code == 302
    assert pages["board"].code not in response["Location"]


def test_the_outsider_finds_nothing_of_ours(
    analyst: User,
    outsider: User,
    hotline_a: Organisation,
    hotline_b: Organisation,
    pages: dict[str, ReportedUrl],
    as_user: Callable[[User], Client],
) -> None:
    gallery = pages["gallery"]
    first, _ = hashed(gallery)
    # Hotline B has its own page showing the same picture (one shared media item).
    theirs = make_page(hotline_b, "http://theirs.test/", images=1, first_seed=11)
    assert items_of(theirs)[0].pk == first.pk
    client = as_user(outsider)
    report = gallery.reports.get()
    for q in [
        "gallery",
        "domain:example.test",
        f"report:{report.code}",
        gallery.code,
        f"item:{items_of(gallery)[1].code}",
        first.md5,
        first.sha1,
        first.sha256,
        f"pdq:{first.pdq}~31",
    ]:
        assert gallery.url not in found(client, q), q
    # What B finds of the shared picture is B's own page only, and A sees only A's.
    assert found(client, first.sha256) == {theirs.url}
    assert found(client, f"pdq:{first.pdq}~31") == {theirs.url}
    assert found(as_user(analyst), first.sha256) == {gallery.url}


@pytest.mark.parametrize(
    "q",
    ["bulk1", "bulk99999", "domain:bulk7.test", "report:AAAAA-BBBBB", "item:ABCDEF-GHJKLM"]
    + ["0" * 32, "pdq:" + "0" * 64 + "~31", "f" * 64],
)
def test_a_search_costs_the_same_queries_at_any_size(
    q: str,
    analyst: User,
    hotline_a: Organisation,
    as_user: Callable[[User], Client],
    django_assert_max_num_queries: Any,
) -> None:
    client = as_user(analyst)
    page = make_page(hotline_a, "http://bulk1.test/pictures", images=1, first_seed=5)
    hashed(page)
    client.get("/app/", {"q": q})  # session and caches warm
    counts = []
    for size in (10, 300, 1500):
        bulk_urls(hotline_a, size, start=size * 10)
        with django_assert_max_num_queries(12) as captured:
            assert client.get("/app/", {"q": q}).status_code == 200
        counts.append(len(captured.captured_queries))
    assert len(set(counts)) == 1, counts


def token(i: int) -> str:
    """A path part of its own per URL, as real URLs have (not a shared prefix)."""
    return hashlib.sha1(str(i).encode()).hexdigest()[:12]  # noqa: S324 - test data, not security


@pytest.mark.parametrize(
    ("q", "index", "expected"),
    [
        (f"{token(2345)}/page", "reports_url_upper_trgm", 2345),
        (f"url:{token(2345).upper()}/Page", "reports_url_upper_trgm", 2345),
        (f"domain:site{token(77)}.test", "reports_host_trgm", 77),
    ],
)
def test_a_substring_search_uses_the_trigram_index_on_postgresql(
    q: str,
    index: str,
    expected: int,
    analyst: User,
    hotline_a: Organisation,
    hotline_b: Organisation,
) -> None:
    """A leading wildcard cannot use a B-tree: PostgreSQL has pg_trgm indexes for it.

    SQLite has none (reports migration 0005 adds them on PostgreSQL only).
    """
    if connection.vendor != "postgresql":
        pytest.skip("the trigram indexes exist on PostgreSQL only")
    # Enough rows that one sequential read of the table costs more than the index.
    for hotline, start, n in ((hotline_a, 0, 30_000), (hotline_b, 100_000, 400)):
        ReportedUrl.objects.bulk_create(
            (
                ReportedUrl(
                    hotline=hotline,
                    url=f"http://site{token(i % 3000)}.test/{token(i)}/page",
                    normalized_url=f"http://site{token(i % 3000)}.test/{token(i)}/page",
                    host=f"site{token(i % 3000)}.test",
                    state=UrlState.AWAITING_ASSESSMENT,
                    priority=i % 300,
                )
                for i in range(start, start + n)
            ),
            batch_size=5000,
        )
    # Hotline B has a URL with the same address, which stays out.
    ReportedUrl.objects.create(
        hotline=hotline_b,
        url=f"http://site{token(expected)}.test/{token(expected)}/page",
        normalized_url=f"http://site{token(expected)}.test/{token(expected)}/page",
        host=f"site{token(expected)}.test",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_reportedurl")
    urls = queue_urls(
        analyst, QueueFilters.from_query({"q": q}), queue_hotlines(analyst), search=parse_search(q)
    )
    # The page's keys, as page_after asks for them, and the bounded count.
    page = urls.filter(priority__lte=MAX_SCORE).values_list("priority", "pk")[:51]
    count = urls.order_by().values("pk")[:1001]
    # Which plan PostgreSQL picks at 30,000 rows depends on the table's and the
    # index's statistics: late in a full run, with both bloated by earlier tests'
    # rolled-back rows, it read the table instead (the count), or walked the
    # priority index in order (the page's LIMIT). With those two ways off, the
    # search must be served by the trigram index: it exists and fits the query.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = count.explain()
    assert f"Bitmap Index Scan on {index}" in plan, plan
    assert "hotline_id" in plan, plan  # the tenant filter stays
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = page.explain()
    assert f"Bitmap Index Scan on {index}" in plan, plan
    assert "hotline_id" in plan, plan
    if q.startswith("domain:"):
        wanted = {i for i in range(30_000) if i % 3000 == expected}
    else:
        wanted = {expected}
    assert {u.url for u in urls} == {
        f"http://site{token(i % 3000)}.test/{token(i)}/page" for i in wanted
    }
