"""Styled 404 and 500 pages, the favicon, styled flash messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client

from openhotline.accounts.models import User

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_the_styled_404(analyst: User, as_user) -> None:
    response = as_user(analyst).get("/app/no-such-page/here/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and "app.css" in page and 'class="top"' in page
    assert "Queue" in page  # the navigation stays, so the way back is one click


def test_the_500_page_renders_without_a_request_or_database(
    django_assert_num_queries,
) -> None:
    with django_assert_num_queries(0):
        page = render_to_string("500.html")
    assert "Something went wrong" in page and "app.css" in page and "favicon.svg" in page


def test_the_favicon_is_linked_and_served(analyst: User, as_user) -> None:
    assert 'rel="icon"' in as_user(analyst).get("/app/").content.decode()
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("openhotline/favicon.svg")


def test_flash_messages_carry_their_kind_for_the_style(hotline_a, admin: User, as_user) -> None:
    client = as_user(admin)
    page = client.post(
        f"/app/admin/{hotline_a.slug}/people/adam/deactivate/", follow=True
    ).content.decode()
    assert '<ul class="messages" role="status"><li class="error">' in page
    css = (Path(__file__).parents[2] / "openhotline/static/openhotline/app.css").read_text()
    assert "ul.messages li.error" in css and "ul.messages li.success" in css
