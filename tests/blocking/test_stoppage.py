from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.blocking.models import StopPageDailyCount, StopPageSettings, StopPageText
from openhotline.blocking.stoppage import StopPageApp, choose_language, request_host
from openhotline.blocking.stoppage_texts import DEFAULT_TEXTS

pytestmark = pytest.mark.django_db


def call(app: StopPageApp, host: str = "bad.test", **environ: str) -> tuple[str, dict, str]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/any/path", "HTTP_HOST": host, **environ}
    body = b"".join(app(env, start_response)).decode()
    return seen["status"], seen["headers"], body


def test_any_host_gets_451_with_the_blocked_by_link(hotline_a: Organisation, settings) -> None:
    settings.OPENHOTLINE_STOPPAGE_BLOCKED_BY_URL = "https://hotline-a.test/blocking"
    status, headers, body = call(
        StopPageApp(hotline_a.pk), "www.bad.test:80", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert status.startswith("451 ")
    assert headers["Link"] == '<https://hotline-a.test/blocking>; rel="blocked-by"'
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "www.bad.test" in body and "illegal" in body
    assert "Hotline A" in body and "Troubled Desire" in body
    # Light: no scripts, no external resources.
    assert "<script" not in body and "src=" not in body and "stylesheet" not in body
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("da-DK,da;q=0.9,en;q=0.5", "da"), ("fr-CH, de;q=0.9", "fr"), ("es, nl;q=0.2", "nl")],
)
def test_the_text_follows_accept_language(
    hotline_a: Organisation, accept: str, expected: str
) -> None:
    status, headers, body = call(StopPageApp(hotline_a.pk), HTTP_ACCEPT_LANGUAGE=accept)
    assert headers["Content-Language"] == expected
    assert DEFAULT_TEXTS[expected].title in body


def test_without_a_known_language_the_hotline_country_decides(hotline_a: Organisation) -> None:
    assert choose_language("ja, zh;q=0.8", "da") == "da"
    assert choose_language("de;q=0, en", "da") == "en"
    _s, headers, _b = call(StopPageApp(hotline_a.pk))
    assert headers["Content-Language"] == "da"  # Hotline A is Danish


def test_admins_wording_and_help_service_are_shown_escaped(hotline_a: Organisation) -> None:
    StopPageText.objects.create(
        hotline=hotline_a,
        language="en",
        title="Blocked <now>",
        explanation="Illegal material.",
        complaint="Write to {contact}.",
        help="Talk to {help_name}.",
    )
    StopPageSettings.objects.create(
        hotline=hotline_a,
        complaint_contact="complaints@hotline-a.test",
        help_name="Helpline A",
        help_url="https://help.hotline-a.test/",
    )
    _s, _h, body = call(StopPageApp(hotline_a.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert "Blocked &lt;now&gt;" in body
    assert '<a href="mailto:complaints@hotline-a.test">' in body
    assert "Talk to Helpline A." in body and 'href="https://help.hotline-a.test/"' in body


def test_a_hostile_host_header_is_not_echoed(hotline_a: Organisation) -> None:
    status, _h, body = call(StopPageApp(hotline_a.pk), host="<script>x</script>")
    assert status.startswith("451") and "<script>" not in body
    assert request_host({"HTTP_HOST": "[2001:db8::1]:80"}) == ""
    assert request_host({"HTTP_HOST": "Bad.Test."}) == "bad.test"


def test_head_requests_get_headers_only(hotline_a: Organisation) -> None:
    status, headers, body = call(StopPageApp(hotline_a.pk), REQUEST_METHOD="HEAD")
    assert status.startswith("451") and body == "" and int(headers["Content-Length"]) > 0


def test_visits_are_counted_per_day_and_blocked_name_only_when_asked(
    hotline_a: Organisation, published
) -> None:
    published(urls=["http://www.bad.test/a"], domains=["whole.test"])
    call(StopPageApp(hotline_a.pk), "www.bad.test")
    assert not StopPageDailyCount.objects.exists()

    counting = StopPageApp(hotline_a.pk, count_daily=True)
    for host in ("www.bad.test", "www.bad.test", "deep.sub.whole.test", "not-listed.test"):
        call(counting, host, REMOTE_ADDR="198.51.100.7")
    counts = {c.host: c.count for c in StopPageDailyCount.objects.all()}
    assert counts == {"www.bad.test": 2, "whole.test": 1}
    assert StopPageDailyCount.objects.get(host="whole.test").day == timezone.localdate()
    # Nothing about the visitor is stored anywhere in the row.
    assert "198.51.100.7" not in repr(list(StopPageDailyCount.objects.values()))
