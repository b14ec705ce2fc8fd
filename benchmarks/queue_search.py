"""Benchmark: search in the analysts' queue at 100,000 reported URLs.

Builds a fresh database (SQLite in a temporary directory, or the empty
PostgreSQL database named by DATABASE_URL), bulk-inserts one hotline's
reported URLs with their reports and media items (random MD5, SHA-1, SHA-256
and PDQ) plus another hotline's, then times:

1. each kind of search as an analyst's request through Django (``GET /app/?q=``,
   template included), with its number of queries;
2. the same search's database work alone (its page of rows and its bounded
   count), which is what the ratio compares;
3. the naive way, for the ratio: every row of the hotline's URLs (and their
   reports and media) read into Python and filtered there. Both must find the
   same URLs; the first page of the search is compared with the naive result.

Example: ``python benchmarks/queue_search.py --urls 100000``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROW_CODE = re.compile(r'<tr class="qrow" data-href="/app/review/([^/"]+)/"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=100_000, help="reported URLs of the hotline")
    parser.add_argument("--media", type=int, default=20_000, help="media items on its pages")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per search")
    parser.add_argument("--seed", type=int, default=12)
    return parser.parse_args()


def setup_django(data_dir: Path) -> None:
    os.environ["OPENHOTLINE_DATA"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    os.environ["OPENHOTLINE_REQUIRE_2FA"] = "false"
    os.environ["OPENHOTLINE_ALLOWED_HOSTS"] = "testserver"
    os.environ["OPENHOTLINE_LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rand_hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def generate(n_urls: int, n_media: int, seed: int) -> dict[str, Any]:
    """One hotline with ``n_urls`` URLs (one report each), media on a fifth of them."""
    from django.db import transaction

    with transaction.atomic():
        return _generate(n_urls, n_media, seed)


def _generate(n_urls: int, n_media: int, seed: int) -> dict[str, Any]:
    from django.utils import timezone

    from openhotline.accounts.actions import do_create_organisation, do_create_user
    from openhotline.accounts.models import Role
    from openhotline.evidence.models import Blob, MediaItem, UrlMedia
    from openhotline.reports.models import Report, ReportedUrl, ReportLink, UrlState

    rng = random.Random(seed)
    now = timezone.now()
    ours = do_create_organisation("Bench hotline", "hotline", "DK")
    theirs = do_create_organisation("Other hotline", "hotline", "NL")
    analyst = do_create_user(
        "bench-analyst", ours, Role.ANALYST, password=secrets.token_urlsafe(16)
    )
    states = [UrlState.AWAITING_ASSESSMENT] * 5 + [UrlState.NOT_ILLEGAL, UrlState.ILLEGAL]
    batch = 5000
    for hotline, count in ((ours, n_urls), (theirs, n_urls // 20)):
        for lo in range(0, count, batch):
            hi = min(count, lo + batch)
            urls = []
            for i in range(lo, hi):
                host = f"site{i % 3000}.example{i % 7}.test"
                url = f"http://{host}/gallery/{i}/page-{rng.getrandbits(20)}.html"
                urls.append(
                    ReportedUrl(
                        hotline=hotline,
                        url=url,
                        normalized_url=url,
                        host=host,
                        state=rng.choice(states),
                        priority=rng.randint(0, 300),
                    )
                )
            urls = ReportedUrl.objects.bulk_create(urls)
            reports = Report.objects.bulk_create(
                Report(hotline=hotline, source="public", created_at=now) for _ in urls
            )
            ReportLink.objects.bulk_create(
                ReportLink(report=r, reported_url=u) for r, u in zip(reports, urls, strict=True)
            )
    ours_urls = list(ReportedUrl.objects.filter(hotline=ours).values_list("pk", flat=True))
    for lo in range(0, n_media, batch):
        hi = min(n_media, lo + batch)
        blobs = Blob.objects.bulk_create(
            Blob(sha256=rand_hex(rng, 64), name=rand_hex(rng, 64), key_id="k", size=1000)
            for _ in range(lo, hi)
        )
        items = MediaItem.objects.bulk_create(
            MediaItem(
                blob=blob,
                sha256=blob.sha256,
                md5=rand_hex(rng, 32),
                sha1=rand_hex(rng, 40),
                size=1000,
                kind="image",
                hash_state="done",
                pdq=rand_hex(rng, 64),
                pdq_quality=100,
            )
            for blob in blobs
        )
        UrlMedia.objects.bulk_create(
            UrlMedia(
                reported_url_id=ours_urls[(lo + j) * 5 % len(ours_urls)],
                media_item=item,
                source_url="http://img.test/x.png",
            )
            for j, item in enumerate(items)
        )
    return {"hotline": ours, "analyst": analyst}


def naive_search(hotline_id: int, kind: str, value: str, distance: int = 0) -> set[int]:
    """The first attempt: read the hotline's rows into Python and filter them there."""
    from openhotline.evidence.models import UrlMedia
    from openhotline.lib.pdq import pdq_distance
    from openhotline.reports.models import ReportedUrl, ReportLink

    if kind in ("url", "domain"):
        found = set()
        for pk, url, host in ReportedUrl.objects.filter(hotline_id=hotline_id).values_list(
            "pk", "url", "host"
        ):
            if kind == "url" and value.lower() in url.lower():
                found.add(pk)
            elif kind == "domain" and (host == value or host.endswith("." + value)):
                found.add(pk)
        return found
    if kind == "report":
        return {
            pk
            for pk, code in ReportLink.objects.filter(
                reported_url__hotline_id=hotline_id
            ).values_list("reported_url_id", "report__code")
            if code == value
        }
    rows = UrlMedia.objects.filter(reported_url__hotline_id=hotline_id).values_list(
        "reported_url_id",
        "media_item__code",
        "media_item__md5",
        "media_item__sha1",
        "media_item__sha256",
        "media_item__pdq",
    )
    found = set()
    for pk, code, md5, sha1, sha256, pdq in rows:
        if (
            (kind == "item" and code == value)
            or (kind == "md5" and md5 == value)
            or (kind == "sha1" and sha1 == value)
            or (kind == "sha256" and sha256 == value)
            or (kind == "pdq" and pdq and pdq_distance(pdq, value) <= distance)
        ):
            found.add(pk)
    return found


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    runs, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), result


def main() -> None:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="oh-bench-search-"))
    setup_django(data_dir)
    from axes.signals import handle_user_logged_in
    from django.conf import settings
    from django.contrib.auth.signals import user_logged_in
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client

    from openhotline.accounts.models import Organisation
    from openhotline.assessment.queue import (
        QueueFilters,
        bounded_count,
        page_after,
        queue_hotlines,
        queue_urls,
    )
    from openhotline.assessment.queue_search import parse_search
    from openhotline.evidence.models import MediaItem, UrlMedia
    from openhotline.reports.models import ReportedUrl

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if Organisation.objects.filter(name="Bench hotline").exists():
        sys.exit("The database already holds a benchmark run: use an empty one.")
    print(f"database: {engine}; generating {args.urls:,} URLs and {args.media:,} media items…")
    began = time.perf_counter()
    made = generate(args.urls, args.media, args.seed)
    print(f"generated in {time.perf_counter() - began:.1f} s")
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum keeps them on a live installation: with the
        # empty table's, the planner reads every row rather than a trigram index.
        with connection.cursor() as cursor:
            for model in (ReportedUrl, UrlMedia, MediaItem):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    hotline_id = made["hotline"].pk
    # As under the test runner: one connection for all requests (the timings are the
    # queries and the page, not reconnecting), and every query of a request visible.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    client = Client()
    # The login itself is not measured; django-axes would log it with the address of
    # the bare request force_login makes, which it cannot read ("unknown").
    user_logged_in.disconnect(handle_user_logged_in)
    client.force_login(made["analyst"])

    rng = random.Random(args.seed + 1)
    url = ReportedUrl.objects.filter(hotline_id=hotline_id).order_by("?").first()
    item = MediaItem.objects.filter(url_links__reported_url__hotline_id=hotline_id).first()
    if url is None or item is None:
        raise SystemExit("the benchmark data has no reported URL or no media item")
    report_code = url.reports.get().code
    near = f"{int(item.pdq, 16) ^ (rng.getrandbits(256) & int('1' * 8 + '0' * 248, 2)):064x}"
    path_part = url.url.split("/", 3)[3][:18]  # "gallery/<i>/page-…": rare
    searches = [
        ("url, rare part", path_part, ("url", path_part)),
        ("url, common part", "gallery/1", ("url", "gallery/1")),
        ("full url", url.url, ("url", url.url)),
        ("domain", f"domain:{url.host}", ("domain", url.host)),
        ("report code", f"report:{report_code}", ("report", report_code)),
        ("item code", f"item:{item.code}", ("item", item.code)),
        ("md5", item.md5, ("md5", item.md5)),
        ("sha1", item.sha1, ("sha1", item.sha1)),
        ("sha256", f"sha256:{item.sha256}", ("sha256", item.sha256)),
        ("pdq ~31", f"pdq:{near}~31", ("pdq", near)),
    ]
    client.get("/app/")  # warm: session, templates
    base_s, _ = timed(lambda: client.get("/app/"), args.repeat)
    print(f"the queue without a search: {base_s * 1000:.1f} ms")
    print(
        f"{'search':<18} {'found':>6} {'queries':>7} {'page ms':>8} "
        f"{'search ms':>9} {'naive ms':>9} {'ratio':>6}"
    )
    user = made["analyst"]
    hotlines = queue_hotlines(user)
    for label, q, (kind, value) in searches:

        def request(q: str = q) -> Any:
            response = client.get("/app/", {"q": q})
            if response.status_code != 200:
                raise SystemExit(f"GET /app/?q={q}: status {response.status_code}")
            return response

        def search(q: str = q) -> list[Any]:
            """The database work of a search page: its rows and its bounded count."""
            filters = QueueFilters.from_query({"q": q})
            urls = queue_urls(user, filters, hotlines, search=parse_search(q))
            rows, _ = page_after(urls, None)
            bounded_count(urls)
            return rows

        executed: list[str] = []

        def count(
            execute: Any, sql: str, params: Any, many: bool, context: Any, into: list = executed
        ) -> Any:
            into.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            request()
        page_s, response = timed(request, args.repeat)
        search_s, rows = timed(search, args.repeat)
        shown = set(ROW_CODE.findall(response.content.decode()))
        if shown != {row.code for row in rows}:
            raise SystemExit(f"{label}: the page shows other rows than the search finds")

        def naive(kind: str = kind, value: str = value) -> set[int]:
            return naive_search(hotline_id, kind, value, 31)

        naive_s, expected = timed(naive, max(1, args.repeat // 2))
        expected = set(ReportedUrl.objects.filter(pk__in=expected).values_list("code", flat=True))
        # The first page holds the best 50 of what the naive filter finds, all of it when fewer.
        if not shown <= expected or len(shown) != min(50, len(expected)):
            raise SystemExit(f"{label}: {len(shown)} rows shown, not the best of {len(expected)}")
        print(
            f"{label:<18} {len(expected):>6} {len(executed):>7} "
            f"{page_s * 1000:>8.1f} {search_s * 1000:>9.1f} {naive_s * 1000:>9.1f} "
            f"{naive_s / search_s:>6.1f}"
        )
    print(
        f"rows: {ReportedUrl.objects.count():,} URLs, {MediaItem.objects.count():,} media, "
        f"{UrlMedia.objects.count():,} links"
    )


if __name__ == "__main__":
    main()
