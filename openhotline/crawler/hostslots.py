"""A per-host limit on crawls running at once, across every worker and machine.

Each host has `limit` numbered slots, rows in the database. A crawl takes a
free slot (a missing row, or one whose lease expired) with a single insert or
conditional update, which the database serialises, so two workers can never
hold one slot. Leases expire, so a worker killed mid-crawl frees its slot
without anyone cleaning up; a long crawl renews its lease as it goes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from openhotline.crawler.models import HostSlot


@dataclass(frozen=True)
class Lease:
    host: str
    slot: int
    holder: str


def acquire(host: str, limit: int, lease_seconds: float) -> Lease | None:
    """Take one of `host`'s `limit` slots for `lease_seconds`, or None when all are held."""
    now = timezone.now()
    expires = now + timedelta(seconds=lease_seconds)
    holder = secrets.token_hex(8)
    for slot in range(limit):
        taken = HostSlot.objects.filter(host=host, slot=slot, expires_at__lte=now).update(
            holder=holder, expires_at=expires
        )
        if taken:
            return Lease(host, slot, holder)
        try:
            with transaction.atomic():
                HostSlot.objects.create(host=host, slot=slot, holder=holder, expires_at=expires)
        except IntegrityError:
            continue  # held by another crawl
        return Lease(host, slot, holder)
    return None


def renew(lease: Lease, lease_seconds: float) -> bool:
    """Extend the lease; False if it was lost (expired and taken by another crawl)."""
    expires = timezone.now() + timedelta(seconds=lease_seconds)
    return bool(
        HostSlot.objects.filter(host=lease.host, slot=lease.slot, holder=lease.holder).update(
            expires_at=expires
        )
    )


def release(lease: Lease) -> None:
    HostSlot.objects.filter(host=lease.host, slot=lease.slot, holder=lease.holder).delete()
