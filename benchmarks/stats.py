"""Benchmark: the statistics dashboards over a million reported URLs.

Builds a fresh database (SQLite in a temporary directory, or the empty
PostgreSQL database named by DATABASE_URL), bulk-inserts generated work of a
network of hotlines (reports, reported URLs, assessments, police referrals,
takedown cases and notices, classified media items, blocklist versions and
provider fetches), rebuilds the facts, then times:

1. every dashboard (an auditor's request through Django, template included),
   network-wide over all time and for one hotline over one year; goal < 1 s;
2. the public transparency report of one year, without its cache;
3. one fact refreshed by a receiver (the cost an event adds);
4. the naive way, for the ratio: the times and counts computed in Python from
   rows of the working tables; its figures are compared with the dashboard's.

Example: ``python benchmarks/stats.py --urls 1000000``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from stats_data import HOTLINES, generate


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=1_000_000, help="reported URLs to generate")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per dashboard")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-naive", action="store_true", help="skip the naive reference")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--data", type=Path, help="data directory (default: a new temporary one)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="skip generating: use the database an earlier run filled "
        "(--data DIR of a --keep run, or DATABASE_URL)",
    )
    return parser.parse_args()


def setup_django(data_dir: Path) -> None:
    os.environ["OPENHOTLINE_DATA"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    os.environ["OPENHOTLINE_REQUIRE_2FA"] = "false"
    os.environ["OPENHOTLINE_ALLOWED_HOSTS"] = "testserver"
    os.environ["OPENHOTLINE_TRANSPARENCY_CACHE_SECONDS"] = "0"
    os.environ["OPENHOTLINE_LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reused() -> dict[str, Any]:
    """What ``generate`` returned, found in a database it filled before."""
    from openhotline.accounts.models import Organisation, User
    from openhotline.reports.models import Report, ReportedUrl

    latest = Report.objects.order_by("-created_at").values_list("created_at", flat=True)[0]
    return {
        "auditor": User.objects.get(username="bench-auditor"),
        "hotline": Organisation.objects.get(name=f"Hotline {HOTLINES[0][0]}"),
        "now": latest,
        "urls": ReportedUrl.objects.count(),
    }


def timed(fn: Any, repeat: int) -> tuple[float, float]:
    """(first run, median of the runs) in seconds."""
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - began)
    return runs[0], statistics.median(runs)


def naive(hotline_id: int | None) -> dict[str, Any]:
    """The same figures the way a first attempt computes them: rows into Python."""
    from openhotline.assessment.models import UrlAssessment
    from openhotline.network.models import PoliceReferral
    from openhotline.reports.models import Report, ReportedUrl
    from openhotline.stats.percentiles import percentile_cont
    from openhotline.takedown.models import TakedownCase

    def secs(later: datetime, earlier: datetime) -> int:
        return int(later.replace(microsecond=0).timestamp()) - int(
            earlier.replace(microsecond=0).timestamp()
        )

    urls = ReportedUrl.objects.all()
    if hotline_id:
        urls = urls.filter(hotline_id=hotline_id)
    created: dict[int, datetime] = {}
    durations: dict[str, list[int]] = {
        "assessed_s": [],
        "referral_s": [],
        "notice_s": [],
        "removal_s": [],
    }
    for pk, at, assessed, removed in urls.values_list(
        "pk", "created_at", "assessed_at", "removed_at"
    ).iterator():
        created[pk] = at
        if assessed:
            durations["assessed_s"].append(secs(assessed, at))
        if removed:
            durations["removal_s"].append(secs(removed, at))
    first: dict[int, datetime] = {}
    for url_id, at in PoliceReferral.objects.values_list(
        "reported_url_id", "created_at"
    ).iterator():
        if url_id in created and (url_id not in first or at < first[url_id]):
            first[url_id] = at
    durations["referral_s"] = [secs(at, created[u]) for u, at in first.items()]
    for url_id, noticed in TakedownCase.objects.values_list(
        "reported_url_id", "first_notice_at"
    ).iterator():
        if url_id in created and noticed:
            durations["notice_s"].append(secs(noticed, created[url_id]))
    result: dict[str, Any] = {}
    for name, values in durations.items():
        values.sort()
        result[name] = (
            len(values),
            percentile_cont(values, 0.5),
            percentile_cont(values, 0.9),
            sum(v <= 3 * 86400 for v in values),
        )
    reports = (
        Report.objects.all() if not hotline_id else Report.objects.filter(hotline_id=hotline_id)
    )
    result["sources"] = Counter(reports.values_list("source", flat=True).iterator())
    assessments = UrlAssessment.objects.all()
    if hotline_id:
        assessments = assessments.filter(reported_url__hotline_id=hotline_id)
    result["verdicts"] = Counter(assessments.values_list("verdict", flat=True).iterator())
    return result


def ours(hotline_id: int | None) -> dict[str, Any]:
    from django.db.models import Count

    from openhotline.stats.models import ReportFact, UrlFact
    from openhotline.stats.percentiles import summarize
    from openhotline.stats.scope import Scope

    scope = Scope((hotline_id,) if hotline_id else None)
    result: dict[str, Any] = {}
    for name, s in summarize(scope, ["assessed_s", "referral_s", "notice_s", "removal_s"]).items():
        result[name] = (s.count, s.median, s.p90, s.within[3])
    result["sources"] = Counter(
        dict(
            ReportFact.objects.filter(scope.q("created_at", country=False))
            .values_list("source")
            .annotate(n=Count("*"))
            .order_by()
        )
    )
    result["verdicts"] = Counter(
        dict(
            UrlFact.objects.filter(scope.q())
            .exclude(verdict="")
            .values_list("verdict")
            .annotate(n=Count("*"))
            .order_by()
        )
    )
    return result


def main() -> None:
    args = parse_args()
    tmp = args.data or Path(tempfile.mkdtemp(prefix="stats-bench-"))
    setup_django(tmp)
    from django.db import connection
    from django.test import Client

    from openhotline.stats.dashboards import DASHBOARDS
    from openhotline.stats.rebuild import rebuild_all, refresh_url_facts

    rng = random.Random(args.seed)
    if args.reuse:
        made = reused()
        args.urls = made["urls"]
        print(f"database: {connection.vendor}; reusing {args.urls:,} reported URLs", flush=True)
    else:
        print(
            f"database: {connection.vendor}; generating {args.urls:,} reported URLs …", flush=True
        )
        began = time.perf_counter()
        made = generate(args.urls, rng)
        print(f"generated in {time.perf_counter() - began:.0f} s", flush=True)
    began = time.perf_counter()
    written = rebuild_all()
    print(f"facts rebuilt in {time.perf_counter() - began:.1f} s: {written}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")

    client = Client()
    client.force_login(made["auditor"])
    year = made["now"].year - 1
    hotline = made["hotline"]
    views = [("network, all time", "")] + [
        (f"{hotline.slug}, {year}", f"?hotline={hotline.slug}&start={year}-01-01&end={year}-12-31")
    ]
    # Load the templates and URL patterns before anything is timed.
    client.get(f"/transparency/{hotline.slug}/")
    client.get("/app/stats/blocking/?start=2000-01-01&end=2000-01-02")
    worst = 0.0
    print(f"\n{'dashboard':<12} {'filters':<26} {'first':>8} {'median':>8}")
    for label, query in views:
        for slug in DASHBOARDS:

            def get(path: str = f"/app/stats/{slug}/{query}") -> None:
                status = client.get(path).status_code
                if status != 200:
                    raise SystemExit(f"GET {path}: status {status}")

            first, median = timed(get, args.repeat)
            worst = max(worst, median)
            print(f"{slug:<12} {label:<26} {first:8.3f} {median:8.3f}", flush=True)
    for label, path in (
        ("transparency", f"/transparency/?year={year}"),
        ("times.csv", "/app/stats/times/times.csv"),
    ):
        first, median = timed(lambda path=path: client.get(path), args.repeat)
        worst = max(worst, median)
        print(f"{label:<12} {'network':<26} {first:8.3f} {median:8.3f}")
    verdict = "met" if worst < 1 else "NOT met"
    print(f"slowest dashboard (median): {worst:.3f} s — goal < 1 s: {verdict}")

    ids = [rng.randrange(1, args.urls + 1) for _ in range(200)]
    began = time.perf_counter()
    for pk in ids:
        refresh_url_facts([pk])
    each = 1000 * (time.perf_counter() - began) / len(ids)
    print(f"one fact refreshed by a receiver: {each:.2f} ms")

    if not args.skip_naive:
        for label, hotline_id in (("network", None), (hotline.slug, hotline.pk)):
            began = time.perf_counter()
            reference = naive(hotline_id)
            slow = time.perf_counter() - began
            began = time.perf_counter()
            fast = ours(hotline_id)
            quick = time.perf_counter() - began
            agree = all(
                reference[k] == fast[k]
                if k in ("sources", "verdicts")
                else reference[k][0] == fast[k][0]
                and reference[k][3] == fast[k][3]
                and math.isclose(reference[k][1] or 0, fast[k][1] or 0)
                and math.isclose(reference[k][2] or 0, fast[k][2] or 0)
                for k in reference
            )
            print(
                f"naive Python aggregation ({label}): {slow:.2f} s; ours {quick:.3f} s; "
                f"ratio {slow / quick:.0f}x; figures agree: {'yes' if agree else 'NO'}"
            )
    if args.keep:
        print(f"kept: {tmp}")


if __name__ == "__main__":
    main()
