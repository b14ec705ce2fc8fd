"""Builders for hand-computed statistics: reported URLs with exactly known times."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.models import UrlAssessment
from openhotline.evidence.models import Blob, MediaItem, UrlMedia
from openhotline.network.models import PoliceReferral
from openhotline.reports.models import Report, ReportedUrl, ReportLink
from openhotline.takedown.models import AbuseContact, TakedownCase

# Monday of a quarter that has ended: every test's times are relative to it.
T0 = datetime(2025, 4, 7, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """The public report caches its figures; every test starts without them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def auditor(hotline_a: Organisation) -> User:
    return do_create_user("audrey", hotline_a, Role.AUDITOR, password="correct horse 7")


def make_report(hotline: Organisation, *, at: datetime, source: str = "public") -> Report:
    return Report.objects.create(hotline=hotline, source=source, created_at=at)


def make_url(
    hotline: Organisation,
    *,
    at: datetime = T0,
    country: str = "",
    verdict: str | None = None,
    assessed: timedelta | None = None,
    referred: timedelta | None = None,
    noticed: timedelta | None = None,
    removed: timedelta | None = None,
    contact: AbuseContact | None = None,
    source: str = "public",
) -> ReportedUrl:
    """A reported URL first reported at ``at``, each later step ``timedelta`` after it.

    Rows are saved one by one, as the apps save them, so the stats receivers run.
    """
    n = next(_serial)
    report = make_report(hotline, at=at, source=source)
    url = ReportedUrl.objects.create(
        hotline=hotline,
        url=f"http://site{n}.test/page",
        normalized_url=f"http://site{n}.test/page",
        host=f"site{n}.test",
        hosting_country=country,
        created_at=at,
    )
    ReportLink.objects.create(report=report, reported_url=url, created_at=at)
    if verdict is not None:
        moment = at + (assessed if assessed is not None else HOUR)
        UrlAssessment.objects.create(reported_url=url, verdict=verdict, assessed_at=moment)
        url.assessed_at = moment
        url.save(update_fields=["assessed_at"])
    if referred is not None:
        PoliceReferral.objects.create(
            reported_url=url,
            hotline=hotline,
            country=country,
            channel="national",
            created_at=at + referred,
        )
    if noticed is not None or contact is not None:
        TakedownCase.objects.create(
            reported_url=url,
            hotline=hotline,
            state="notified",
            contact=contact,
            first_notice_at=at + noticed if noticed is not None else None,
            next_check_at=at,
        )
    if removed is not None:
        url.removed_at = at + removed
        url.save(update_fields=["removed_at"])
    return url


def make_contact(hotline: Organisation, name: str, country: str = "NL") -> AbuseContact:
    return AbuseContact.objects.create(
        hotline=hotline,
        name=name,
        email=f"abuse@{name.lower().replace(' ', '-')}.test",
        kind="hoster",
        source="manual",
        country=country,
    )


def make_item(url: ReportedUrl) -> MediaItem:
    """A media item found on ``url`` (only its row: the statistics never read content)."""
    n = next(_serial)
    digest = hashlib.sha256(f"item {n}".encode()).hexdigest()
    blob = Blob.objects.create(sha256=digest, name=digest, key_id="k", size=1)
    item = MediaItem.objects.create(
        blob=blob, sha256=digest, md5=digest[:32], sha1=digest[:40], size=1, kind="image"
    )
    UrlMedia.objects.create(reported_url=url, media_item=item, source_url=f"{url.url}/{n}.jpg")
    return item
