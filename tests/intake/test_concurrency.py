"""Many partner clients report the same URL at once: one reported URL, one crawl.

The fault this catches: 80 reports of one URL from 8 concurrent clients made
7 reported URLs on PostgreSQL, each crawled and assessed on its own. A
``SELECT … FOR UPDATE`` on a row not there yet locks nothing.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from openhotline.accounts.models import Organisation
from openhotline.celery import app
from openhotline.reports.actions import CRAWL_TASK
from openhotline.reports.models import Report, ReportedUrl, ReportLink
from tests.support.racers import postgres_only

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), postgres_only]

CLIENTS = 8
REPORTS_EACH = 10


def test_eight_clients_reporting_one_url_make_one_reported_url_and_one_crawl(
    live_server: Any,
    hotline_a: Organisation,
    partner_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The live server runs in this process: its crawl sends are seen here.
    sent: list[tuple[str, list[Any]]] = []
    lock = threading.Lock()

    def send_task(name: str, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        with lock:
            sent.append((name, list(args or ())))

    monkeypatch.setattr(app, "send_task", send_task)
    start = threading.Barrier(CLIENTS)

    def client(_: int) -> list[int]:
        statuses = []
        with requests.Session() as session:
            start.wait(timeout=60)
            for _n in range(REPORTS_EACH):
                response = session.post(
                    f"{live_server.url}/api/v1/reports",
                    json={"urls": ["http://Race.TEST/one#frag", "http://race.test/two"]},
                    headers={"Authorization": f"Bearer {partner_key}"},
                    timeout=120,
                )
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [status for result in pool.map(client, range(CLIENTS)) for status in result]

    assert statuses == [201] * CLIENTS * REPORTS_EACH
    assert Report.objects.count() == CLIENTS * REPORTS_EACH
    urls = list(ReportedUrl.objects.order_by("normalized_url"))
    assert [u.normalized_url for u in urls] == ["http://race.test/one", "http://race.test/two"]
    for url in urls:
        assert ReportLink.objects.filter(reported_url=url).count() == CLIENTS * REPORTS_EACH
    crawls = sorted(args[0] for name, args in sent if name == CRAWL_TASK)
    assert crawls == sorted(u.pk for u in urls)
