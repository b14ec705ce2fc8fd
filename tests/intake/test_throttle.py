from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import RequestFactory

from openhotline.intake import throttle
from openhotline.intake.keys import source_hash
from openhotline.intake.models import SourceCounter

NOW = datetime(2025, 3, 4, 10, 7, 30, tzinfo=UTC)


def request(remote: str, forwarded: str = "") -> Any:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return RequestFactory().post("/report/", REMOTE_ADDR=remote, headers=headers)


def test_an_ipv6_household_counts_as_one_source() -> None:
    first = request("2001:db8:1:2:aaaa::1")
    second = request("2001:db8:1:2:bbbb::2")
    assert throttle.client_address(first) == throttle.client_address(second) == "2001:db8:1:2::"
    assert throttle.client_address(request("::ffff:192.0.2.1")) == "192.0.2.1"
    assert throttle.client_address(request("not an address")) == "unknown"


def test_behind_a_proxy_the_right_most_forwarded_address_counts(settings: Any) -> None:
    forged = request("10.0.0.1", forwarded="203.0.113.66, 198.51.100.7")
    assert throttle.client_address(forged) == "10.0.0.1"
    settings.OPENHOTLINE_INTAKE_CLIENT_IP_HEADER = "X-Forwarded-For"
    assert throttle.client_address(forged) == "198.51.100.7"


def test_the_source_hash_is_keyed_and_changes_every_day(settings: Any) -> None:
    today = source_hash("198.51.100.7", now=NOW)
    assert today == source_hash("198.51.100.7", now=NOW + timedelta(hours=13))
    assert today != source_hash("198.51.100.7", now=NOW + timedelta(days=1))
    assert "198.51.100.7" not in today and len(today) == 64
    settings.OPENHOTLINE_INTAKE_KEY = "another installation"
    assert source_hash("198.51.100.7", now=NOW) != today


@pytest.mark.django_db
def test_the_limit_counts_reports_per_window_and_counters_expire(settings: Any) -> None:
    settings.OPENHOTLINE_INTAKE_RATE_LIMIT = 2
    settings.OPENHOTLINE_INTAKE_RATE_WINDOW = 600
    source = source_hash("198.51.100.7", now=NOW)
    for _ in range(2):
        assert not throttle.is_over_limit(source, NOW)
        throttle.count_report(source, NOW)
    assert throttle.is_over_limit(source, NOW + timedelta(minutes=2))
    assert not throttle.is_over_limit(source, NOW + timedelta(minutes=3))  # next window
    counter = SourceCounter.objects.get()
    assert counter.window_start == datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    assert counter.expires_at == datetime(2025, 3, 4, 10, 10, tzinfo=UTC)
    assert throttle.purge_expired(NOW) == 0
    assert throttle.purge_expired(NOW + timedelta(minutes=3)) == 1
