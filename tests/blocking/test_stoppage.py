from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.blocking.actions.entries import do_approve_entry, do_propose_entry, get_source
from openhotline.blocking.actions.publishing import do_publish
from openhotline.blocking.management.commands.stoppage import is_local_url
from openhotline.blocking.models import (
    BlocklistSource,
    SourceKind,
    StopPageDailyCount,
    StopPageSettings,
    StopPageText,
)
from openhotline.blocking.stoppage import StopPageApp, choose_language, request_host
from openhotline.blocking.stoppage_texts import DEFAULT_TEXTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_b(hotline_b: Organisation) -> User:
    return do_create_user("bert", hotline_b, Role.ANALYST, password="correct horse 8")


@pytest.fixture
def senior_b(hotline_b: Organisation) -> User:
    return do_create_user("bea", hotline_b, Role.SENIOR_ANALYST, password="correct horse 9")


@pytest.fixture
def assessment_b(hotline_b: Organisation) -> BlocklistSource:
    return get_source(hotline_b, "Our assessment", SourceKind.ASSESSMENT)


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
    published(urls=["http://url-only.test/a"], domains=["whole.test"], hosts=["www.bad.test"])
    call(StopPageApp(hotline_a.pk), "www.bad.test")
    assert not StopPageDailyCount.objects.exists()

    counting = StopPageApp(hotline_a.pk, count_daily=True)
    hosts = ("www.bad.test", "www.bad.test", "deep.sub.whole.test", "not-listed.test")
    # A URL entry's host is not blocked by DNS, so a visit there is not counted either.
    for host in (*hosts, "url-only.test", "sub.www.bad.test"):
        call(counting, host, REMOTE_ADDR="198.51.100.7")
    counts = {c.host: c.count for c in StopPageDailyCount.objects.all()}
    assert counts == {"www.bad.test": 2, "whole.test": 1}
    assert StopPageDailyCount.objects.get(host="whole.test").day == timezone.localdate()
    # Nothing about the visitor is stored anywhere in the row.
    assert "198.51.100.7" not in repr(list(StopPageDailyCount.objects.values()))


def test_the_blocked_name_chooses_the_hotline_whose_list_blocks_it(
    hotline_a: Organisation,
    hotline_b: Organisation,
    published,
    assessment_b,
    analyst_b,
    senior_b,
    settings,
) -> None:
    settings.OPENHOTLINE_PUBLIC_BASE_URL = "https://hotlines.test"
    StopPageSettings.objects.create(hotline=hotline_a, complaint_contact="/klage/")
    StopPageSettings.objects.create(
        hotline=hotline_b,
        complaint_contact="complaints@hotline-b.test",
        blocked_by_url="https://hotline-b.test/about",
    )
    published(domains=["dk-list.test"])
    entry = do_propose_entry(
        hotline_b,
        value="nl-list.test",
        kind="host",
        source=assessment_b,
        dedicated=True,
        actor=analyst_b,
    )
    do_approve_entry(entry, actor=senior_b)
    do_publish(hotline_b, actor=senior_b, override=True)

    app = StopPageApp()  # no default hotline: several exist
    _s, headers, body = call(app, "www.dk-list.test", HTTP_ACCEPT_LANGUAGE="en")
    assert "Hotline A" in body and "Hotline B" not in body
    assert headers["Link"] == '<https://hotlines.test/>; rel="blocked-by"'
    assert '<a href="https://hotlines.test/klage/">' in body
    assert "127.0.0.1" not in body and ":8000" not in body

    _s, headers, body = call(app, "nl-list.test", HTTP_ACCEPT_LANGUAGE="en")
    assert "Hotline B" in body and "Hotline A" not in body
    assert headers["Link"] == '<https://hotline-b.test/about>; rel="blocked-by"'
    assert '<a href="mailto:complaints@hotline-b.test">' in body
    # A whole host is its own name only: a name below it is nobody's block.
    status, _h, body = call(app, "sub.nl-list.test", HTTP_ACCEPT_LANGUAGE="en")
    assert status.startswith("451") and "Hotline A" not in body and "Hotline B" not in body
    # With a default hotline, names no list blocks get its page.
    _s, _h, body = call(StopPageApp(hotline_b.pk), "unlisted.test", HTTP_ACCEPT_LANGUAGE="en")
    assert "Hotline B" in body


def test_a_visitor_always_learns_where_to_complain(hotline_a: Organisation, settings) -> None:
    settings.OPENHOTLINE_PUBLIC_BASE_URL = "https://hotline-a.test/"
    hotline_a.contact_email = ""
    hotline_a.save()
    _s, _h, body = call(StopPageApp(hotline_a.pk), HTTP_ACCEPT_LANGUAGE="en")
    # Nothing set: the public site itself, never a development address.
    assert 'write to <a href="https://hotline-a.test/">' in body
    settings.OPENHOTLINE_STOPPAGE_COMPLAINT = "/complaints/"
    _s, _h, body = call(StopPageApp(hotline_a.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert 'write to <a href="https://hotline-a.test/complaints/">' in body
    hotline_a.contact_email = "info@hotline-a.test"
    hotline_a.save()
    _s, _h, body = call(StopPageApp(hotline_a.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert 'write to <a href="mailto:info@hotline-a.test">' in body


def test_in_production_the_stop_page_refuses_links_visitors_cannot_reach(
    hotline_a: Organisation, settings
) -> None:
    assert is_local_url("http://127.0.0.1:8000") and is_local_url("http://localhost/")
    assert is_local_url("http://[::1]:8000/") and is_local_url("/relative")
    assert not is_local_url("https://hotline-a.test/")
    settings.PRODUCTION = True
    settings.OPENHOTLINE_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    with pytest.raises(CommandError, match="OPENHOTLINE_PUBLIC_BASE_URL"):
        call_command("stoppage", "--listen", "127.0.0.1:1")
