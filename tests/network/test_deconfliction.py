"""Deconfliction by content: the same media at two hotlines links their URLs, both ways."""

from __future__ import annotations

from typing import Any

from openhotline.accounts.models import Organisation, User
from openhotline.evidence.actions import do_store_media
from openhotline.network.models import MediaOverlap
from openhotline.reports.models import TimelineEntry
from tests.network.conftest import generated_image, page_with_media


def test_the_same_media_at_two_hotlines_links_their_urls(
    hotline_a: Organisation,
    hotline_b: Organisation,
    analyst: User,
    analyst_b: User,
    outsider_c: User,
    as_user: Any,
) -> None:
    mine = page_with_media(hotline_a, "http://gallery.test/one", images=2, first_seed=1)
    theirs = page_with_media(hotline_b, "http://mirror.test/two", images=1, first_seed=7)
    do_store_media(generated_image(1), mime="image/png", reported_url=theirs, source_url="x")
    do_store_media(generated_image(2), mime="image/png", reported_url=theirs, source_url="y")

    there = MediaOverlap.objects.get(reported_url=mine, other_url=theirs)
    back = MediaOverlap.objects.get(reported_url=theirs, other_url=mine)
    assert there.media_count == back.media_count == 2
    assert (
        TimelineEntry.objects.filter(reported_url=mine, kind="network.media_overlap").count() == 1
    )
    page = as_user(analyst).get(f"/app/network/urls/{mine.code}/").content.decode()
    assert "Same media (2 items) also at Hotline B" in page
    assert theirs.code not in page and theirs.url not in page
    assert as_user(outsider_c).get(f"/app/network/urls/{mine.code}/").status_code == 404


def test_media_of_one_hotline_alone_links_nothing(hotline_a: Organisation) -> None:
    first = page_with_media(hotline_a, "http://gallery.test/a", images=1, first_seed=3)
    second = page_with_media(hotline_a, "http://gallery.test/b", images=0)
    do_store_media(generated_image(3), mime="image/png", reported_url=second, source_url="z")
    assert not MediaOverlap.objects.filter(reported_url__in=[first, second]).exists()
