"""The "Route again" button appears only once the URL's illegal verdict is in force.

Routing refuses a verdict that still waits for four-eyes confirmation
(``do_route``), so the page says that routing waits instead of offering a
button that would do nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import (
    do_classify_item,
    do_finish_url,
    do_second_opinion,
)
from openhotline.assessment.models import ReviewState
from openhotline.reports.models import UrlState
from tests.network.conftest import media_of, page_with_media, record_hosting

pytestmark = pytest.mark.django_db

BUTTON = ">Route again</button>"


def test_route_again_waits_for_the_four_eyes_confirmation(
    hotline_a: Organisation,
    analyst: User,
    outsider: User,
    as_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    senior = do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 9")
    page = page_with_media(hotline_a, "http://gallery.test/dk", images=1)
    record_hosting(page, country="DK")
    (item,) = media_of(page)
    with django_capture_on_commit_callbacks(execute=True):
        status = do_classify_item(hotline_a, item, "baseline", analyst=analyst, reported_url=page)
        do_finish_url(page, analyst)
    page.refresh_from_db()
    assert status.review_state == ReviewState.AWAITING_CONFIRMATION
    assert page.state == UrlState.ILLEGAL
    client = as_user(analyst)
    for path in (f"/app/network/urls/{page.code}/", f"/app/urls/{page.code}/"):
        body = client.get(path).content.decode()
        assert BUTTON not in body, path
        assert 'id="routing-waits"' in body, path

    with django_capture_on_commit_callbacks(execute=True):
        do_second_opinion(status, senior, "baseline")
    for path in (f"/app/network/urls/{page.code}/", f"/app/urls/{page.code}/"):
        body = client.get(path).content.decode()
        assert BUTTON in body, path
        assert 'id="routing-waits"' not in body, path
    # Another hotline's analyst sees neither the page nor its button.
    assert as_user(outsider).get(f"/app/network/urls/{page.code}/").status_code == 404
    assert as_user(outsider).post(f"/app/network/urls/{page.code}/route/").status_code == 404
