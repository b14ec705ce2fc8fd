""" "Propose for blocking" on a reported URL's page."""

from __future__ import annotations

import html

import pytest

from openhotline.accounts.models import Organisation, User
from openhotline.blocking.models import BlocklistEntry, EntryState
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource

pytestmark = pytest.mark.django_db


def test_the_url_page_proposes_the_url_for_blocking_with_its_evidence(
    hotline_a: Organisation, analyst: User, as_user
) -> None:
    url = do_file_report(
        hotline_a, source=ReportSource.PUBLIC, urls=["http://bad.test/x"]
    ).urls.get()
    client = as_user(analyst)
    page = client.get(f"/app/urls/{url.code}/").content.decode()
    link = html.unescape(page.split('id="propose-blocking" href="')[1].split('"')[0])
    assert link.startswith(f"/app/blocking/{hotline_a.slug}/propose/?")
    form = client.get(link).content.decode()
    assert 'value="http://bad.test/x"' in form and f'value="{url.code}"' in form
    client.post(
        f"/app/blocking/{hotline_a.slug}/propose/",
        {"value": "http://bad.test/x", "kind": "url", "evidence": url.code, "reason": ""},
    )
    entry = BlocklistEntry.objects.get()
    assert entry.evidence == url and entry.state == EntryState.PROPOSED
    page = client.get(f"/app/urls/{url.code}/").content.decode()
    assert entry.code in page and 'id="propose-blocking"' not in page


def test_another_hotline_cannot_use_the_url_as_evidence(
    hotline_a: Organisation, outsider: User, as_user
) -> None:
    url = do_file_report(
        hotline_a, source=ReportSource.PUBLIC, urls=["http://bad.test/x"]
    ).urls.get()
    client = as_user(outsider)
    assert client.get(f"/app/urls/{url.code}/").status_code == 404
    assert (
        client.get(f"/app/blocking/{hotline_a.slug}/propose/?evidence={url.code}").status_code
        == 404
    )
    client.post(
        "/app/blocking/hotline-b/propose/",
        {"value": "http://bad.test/x", "kind": "url", "evidence": url.code},
    )
    assert not BlocklistEntry.objects.exists()
