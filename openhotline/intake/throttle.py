"""Per-source rate limiting of the public form, without keeping addresses.

The source of a request is its client address (an IPv6 address counts by
its /64 network, which one household gets whole). Only a daily-keyed hash
of it is stored (``intake.keys.source_hash``), in a counter row that
expires with its window, at most a day later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openhotline.intake.keys import source_hash
from openhotline.intake.models import SourceCounter
from openhotline.lib.clientaddress import client_address as lib_client_address


def client_address(request: HttpRequest) -> str:
    """The address a request came from, as a string to hash ("unknown" when none parses).

    Behind a reverse proxy, ``OPENHOTLINE_INTAKE_CLIENT_IP_HEADER`` names the
    header it sets (``lib.clientaddress`` reads its right-most value).
    """
    header = settings.OPENHOTLINE_INTAKE_CLIENT_IP_HEADER or ""
    return lib_client_address(request, header=header) or "unknown"


def source_key(request: HttpRequest, now: datetime | None = None) -> str:
    return source_hash(client_address(request), now=now or timezone.now())


def _window(now: datetime) -> tuple[datetime, datetime]:
    seconds = int(settings.OPENHOTLINE_INTAKE_RATE_WINDOW)
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)
    return start, start + timedelta(seconds=seconds)


def is_over_limit(source: str, now: datetime | None = None) -> bool:
    """True when this source has used up its reports for the current window."""
    now = now or timezone.now()
    start, _ = _window(now)
    counter = SourceCounter.objects.filter(source_hash=source, window_start=start).first()
    return counter is not None and counter.count >= settings.OPENHOTLINE_INTAKE_RATE_LIMIT


def count_report(source: str, now: datetime | None = None) -> None:
    """Count one accepted report; call it in the transaction that files the report."""
    now = now or timezone.now()
    start, end = _window(now)
    counter, created = SourceCounter.objects.get_or_create(
        source_hash=source, window_start=start, defaults={"count": 1, "expires_at": end}
    )
    if not created:
        SourceCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)


def purge_expired(now: datetime | None = None) -> int:
    deleted, _ = SourceCounter.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
