"""The per-host crawl limit shared by all workers: slots are leases in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openhotline.crawler import hostslots
from openhotline.crawler.models import HostSlot

pytestmark = pytest.mark.django_db


def test_a_host_has_at_most_limit_slots_and_other_hosts_are_apart() -> None:
    first = hostslots.acquire("a.test", 2, 60)
    second = hostslots.acquire("a.test", 2, 60)
    assert first is not None and second is not None and first.slot != second.slot
    assert hostslots.acquire("a.test", 2, 60) is None
    assert hostslots.acquire("b.test", 2, 60) is not None


def test_a_released_slot_can_be_taken_again() -> None:
    lease = hostslots.acquire("a.test", 1, 60)
    assert lease is not None and hostslots.acquire("a.test", 1, 60) is None
    hostslots.release(lease)
    assert hostslots.acquire("a.test", 1, 60) is not None


def test_an_expired_lease_is_taken_over_and_its_holder_knows() -> None:
    dead = hostslots.acquire("a.test", 1, 60)
    assert dead is not None
    HostSlot.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    taker = hostslots.acquire("a.test", 1, 60)
    assert taker is not None and taker.holder != dead.holder
    assert not hostslots.renew(dead, 60)  # the dead worker's lease is gone
    hostslots.release(dead)  # and releasing it does not free the new holder's slot
    assert hostslots.acquire("a.test", 1, 60) is None
    assert hostslots.renew(taker, 60)
