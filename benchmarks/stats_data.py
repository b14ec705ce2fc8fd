"""Generated work of a network of hotlines, bulk-inserted for ``benchmarks/stats.py``.

Five hotlines, three years: reports and reported URLs with their
assessments, police referrals, takedown cases and notices; classified media
items; blocklist versions and provider fetches. Rows are bulk-inserted, so
no receiver runs; the caller rebuilds the facts.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

HOTLINES = (("DK", 0.35), ("NL", 0.25), ("DE", 0.2), ("FR", 0.1), ("BE", 0.1))
COUNTRIES = (
    ("NL", 30),
    ("US", 22),
    ("DE", 7),
    ("RU", 6),
    ("FR", 4),
    ("SC", 3),
    ("BG", 3),
    ("UA", 3),
    ("HK", 2),
    ("CA", 2),
    ("LU", 2),
    ("GB", 2),
    ("DK", 1),
    ("BE", 1),
    ("PA", 1),
    ("SG", 1),
    ("", 3),
)
BATCH = 5000


def lognormal_seconds(rng: random.Random, median_hours: float, sigma: float = 1.0) -> int:
    return int(3600 * median_hours * math.exp(rng.gauss(0, sigma)))


def bulk(*tables: tuple[Any, list[Any]]) -> None:
    """Insert rows without saving them one by one: no receiver runs (the facts are rebuilt)."""
    for model, rows in tables:
        for i in range(0, len(rows), BATCH):
            model.objects.bulk_create(rows[i : i + BATCH], batch_size=BATCH)


def after(moment: datetime, rng: random.Random, median_hours: float) -> datetime:
    return moment + timedelta(seconds=lognormal_seconds(rng, median_hours))


def generate(n: int, rng: random.Random) -> dict[str, Any]:
    """The organisations, then the URLs with their steps, notices, media items and lists."""
    from openhotline.accounts.actions import do_create_organisation, do_create_user
    from openhotline.network.models import MemberHotline
    from openhotline.takedown.models import AbuseContact

    now = datetime.now(UTC).replace(microsecond=0)
    hotlines = [do_create_organisation(f"Hotline {c}", "hotline", c) for c, _ in HOTLINES]
    for h in hotlines:
        MemberHotline.objects.get_or_create(
            country=h.country, defaults={"name": h.name, "organisation": h}
        )
    auditor = do_create_user("bench-auditor", hotlines[0], "auditor", password=None)
    contacts = [
        AbuseContact(
            hotline=hotlines[i % len(hotlines)],
            name=f"Hoster {i}",
            email=f"abuse@h{i}.test",
            kind="hoster",
            source="manual",
            country=rng.choice(COUNTRIES[:-1])[0],
        )
        for i in range(2000)
    ]
    bulk((AbuseContact, contacts))
    illegal, cases = generate_urls(n, rng, now, hotlines, list(AbuseContact.objects.order_by("pk")))
    generate_notices(cases)
    generate_items(n // 4, rng, now, illegal, n)
    generate_lists(rng, now, hotlines)
    return {"auditor": auditor, "hotline": hotlines[0], "now": now}


def generate_urls(
    n: int, rng: random.Random, now: datetime, hotlines: list[Any], contacts: list[Any]
) -> tuple[list[int], list[Any]]:
    """Reported URLs over three years, each with its report, assessment, referral and case.

    70 % are assessed (median 20 h), half of those illegal; 60 % of the illegal
    ones are referred to the police, 75 % get a notice to a hoster (a few big
    hosters get most), and 85 % of those are removed, each hoster at its own pace.
    """
    from openhotline.assessment.models import UrlAssessment
    from openhotline.network.models import PoliceReferral
    from openhotline.reports.models import Report, ReportedUrl, ReportLink
    from openhotline.takedown.models import TakedownCase

    pace = {c.pk: math.exp(rng.gauss(0, 0.8)) for c in contacts}
    codes, weights = zip(*COUNTRIES, strict=True)
    chosen = rng.choices(range(len(hotlines)), weights=[w for _, w in HOTLINES], k=n)
    urls: list[Any] = []
    reports: list[Any] = []
    links: list[Any] = []
    assessments: list[Any] = []
    referrals: list[Any] = []
    cases: list[Any] = []
    illegal: list[int] = []
    for i in range(1, n + 1):
        hotline = hotlines[chosen[i - 1]]
        created = now - timedelta(seconds=rng.randrange(86400, 3 * 365 * 86400))
        country = rng.choices(codes, weights)[0]
        assessed: datetime | None = None
        removed: datetime | None = None
        verdict = ""
        if rng.random() < 0.7:
            assessed = after(created, rng, 20)
            verdict = rng.choices(("baseline", "national", "not_illegal"), (30, 20, 50))[0]
            assessments.append(
                UrlAssessment(reported_url_id=i, verdict=verdict, assessed_at=assessed)
            )
        if assessed is not None and verdict != "not_illegal":
            illegal.append(i)
            step = assessed
            if rng.random() < 0.6:
                step = after(assessed, rng, 2)
                referrals.append(
                    PoliceReferral(
                        code=f"P{i:011d}",
                        reported_url_id=i,
                        hotline=hotline,
                        country=country,
                        channel="national",
                        created_at=step,
                    )
                )
            if rng.random() < 0.75:
                contact = contacts[min(int(rng.paretovariate(1.2)) - 1, len(contacts) - 1)]
                notice = after(step, rng, 4)
                if rng.random() < 0.85:
                    removed = after(notice, rng, 30 * pace[contact.pk])
                cases.append(
                    TakedownCase(
                        code=f"C{i:011d}",
                        reported_url_id=i,
                        hotline=hotline,
                        state="removed" if removed else "notified",
                        contact=contact,
                        first_notice_at=notice,
                        next_check_at=now,
                        removed_at=removed,
                    )
                )
        host = f"h{i % 50000}.example{i % 997}.test"
        urls.append(
            ReportedUrl(
                pk=i,
                code=f"U{i:011d}",
                hotline=hotline,
                url=f"http://{host}/gallery/{i}",
                normalized_url=f"http://{host}/gallery/{i}",
                host=host,
                hosting_country=country,
                state="closed" if verdict else "awaiting_assessment",
                created_at=created,
                assessed_at=assessed,
                removed_at=removed,
            )
        )
        source = rng.choices(("public", "partner", "email", "hotline"), (60, 30, 8, 2))[0]
        reports.append(
            Report(pk=i, code=f"R{i:09d}", hotline=hotline, created_at=created, source=source)
        )
        links.append(ReportLink(report_id=i, reported_url_id=i, created_at=created))
        if len(urls) == BATCH:
            bulk((ReportedUrl, urls), (Report, reports), (ReportLink, links))
            urls, reports, links = [], [], []
    bulk((ReportedUrl, urls), (Report, reports), (ReportLink, links))
    bulk((UrlAssessment, assessments), (PoliceReferral, referrals), (TakedownCase, cases))
    return illegal, cases


def generate_notices(cases: list[Any]) -> None:
    """One notice per five cases of a hoster, each case on one line of it."""
    from openhotline.takedown.models import Notice, NoticeLine, TakedownCase

    by_contact: dict[int, list[Any]] = {}
    for case in cases:
        by_contact.setdefault(case.contact_id, []).append(case)
    case_pk = dict(TakedownCase.objects.values_list("reported_url_id", "pk"))
    notices: list[Any] = []
    lines: list[Any] = []
    for contact_id, group in by_contact.items():
        for j in range(0, len(group), 5):
            k = len(notices) + 1
            first = group[j]
            notices.append(
                Notice(
                    pk=k,
                    code=f"N{k:011d}",
                    hotline_id=first.hotline_id,
                    contact_id=contact_id,
                    kind="notice",
                    recipient="abuse@example.test",
                    language="en",
                    subject="s",
                    text="t",
                    state="sent",
                    sent_at=first.first_notice_at,
                    created_at=first.first_notice_at,
                )
            )
            lines += [
                NoticeLine(notice_id=k, case_id=case_pk[c.reported_url_id], url="u")
                for c in group[j : j + 5]
            ]
    bulk((Notice, notices), (NoticeLine, lines))


def generate_items(
    count: int, rng: random.Random, now: datetime, illegal: list[int], n: int
) -> None:
    """Media items, most on illegal pages, each classified once (30 % by a hash match)."""
    from openhotline.assessment.models import Classification, ItemStatus
    from openhotline.evidence.models import Blob, MediaItem, UrlMedia
    from openhotline.reports.models import ReportedUrl

    hotline_of = dict(ReportedUrl.objects.values_list("pk", "hotline_id").iterator())
    blobs: list[Any] = []
    media: list[Any] = []
    found: list[Any] = []
    classes: list[Any] = []
    statuses: list[Any] = []
    for j in range(1, count + 1):
        url_id = illegal[j % len(illegal)] if rng.random() < 0.8 else rng.randrange(1, n + 1)
        digest = f"{j:064x}"
        blobs.append(Blob(pk=j, sha256=digest, name=digest, key_id="k", size=1))
        media.append(
            MediaItem(
                pk=j,
                code=f"M{j:011d}",
                blob_id=j,
                sha256=digest,
                md5=digest[:32],
                sha1=digest[:40],
                size=1,
                kind="image",
            )
        )
        found.append(UrlMedia(reported_url_id=url_id, media_item_id=j, source_url="u"))
        classes.append(
            Classification(
                pk=j,
                hotline_id=hotline_of[url_id],
                media_item_id=j,
                verdict=rng.choices(("baseline", "national", "not_illegal"), (55, 25, 20))[0],
                age_group=rng.choice(("not_determined", "infant", "prepubescent", "pubescent")),
                gender=rng.choice(("not_determined", "female", "male", "both")),
                is_virtual=rng.random() < 0.05,
                is_self_generated=rng.random() < 0.2,
                source="hash_match" if rng.random() < 0.3 else "analyst",
                created_at=now - timedelta(seconds=rng.randrange(86400, 3 * 365 * 86400)),
            )
        )
        statuses.append(ItemStatus(hotline_id=hotline_of[url_id], media_item_id=j, current_id=j))
    bulk((Blob, blobs), (MediaItem, media), (UrlMedia, found))
    bulk((Classification, classes), (ItemStatus, statuses))


def generate_lists(rng: random.Random, now: datetime, hotlines: list[Any]) -> None:
    """200 blocklist versions per hotline, and four providers fetching every six hours."""
    from django.core.management.color import no_style
    from django.db import connection

    from openhotline.accounts.actions import do_create_organisation
    from openhotline.assessment.models import Classification
    from openhotline.blocking.models import FeedFetch, Publication
    from openhotline.evidence.models import Blob, MediaItem
    from openhotline.reports.models import Report, ReportedUrl
    from openhotline.takedown.models import Notice

    span = 3 * 365 * 86400
    publications: list[Any] = []
    fetches: list[Any] = []
    for h in hotlines:
        size = 0
        for serial in range(1, 201):
            added = rng.randrange(0, 400)
            dropped = rng.randrange(0, min(size, 300) + 1)
            size += added - dropped
            publications.append(
                Publication(
                    hotline=h,
                    serial=serial,
                    entry_count=size,
                    added_count=added,
                    removed_count=dropped,
                    created_at=now - timedelta(seconds=span * (200 - serial) // 200),
                )
            )
        for i in range(4):
            isp = do_create_organisation(f"ISP {h.country}{i}", "isp", str(h.country))
            fetches += [
                FeedFetch(
                    isp=isp,
                    hotline=h,
                    format="rpz",
                    serial=min(200, f // 10 + 1),
                    status=rng.choice((200, 304, 304)),
                    created_at=now - timedelta(hours=6 * (2000 - f)),
                )
                for f in range(2000)
            ]
    bulk((Publication, publications), (FeedFetch, fetches))
    models = [ReportedUrl, Report, Blob, MediaItem, Classification, Notice]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
