from __future__ import annotations

import io
import logging
from collections.abc import Callable

import numpy as np
import pytest
from django.test import Client
from PIL import Image

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.evidence.actions import do_store_blob, do_store_media
from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.evidence.thumbs import RevealStep
from openhotline.evidence.views import reveal_link
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource
from tests.evidence.conftest import sharp_image
from tests.support.imagebombs import png_bomb

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(hotline_a: Organisation) -> MediaItem:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://img.test/p"])
    data = sharp_image()
    blob = do_store_blob(data, mime="image/png")
    media = MediaItem.objects.create(
        blob=blob,
        sha256=blob.sha256,
        md5="0" * 32,
        sha1="0" * 40,
        size=len(data),
        mime="image/png",
        kind="image",
    )
    UrlMedia.objects.create(
        reported_url=report.urls.get(), media_item=media, source_url="http://img.test/a.png"
    )
    return media


def high_frequency_energy(jpeg: bytes) -> float:
    """Mean squared difference between neighbouring pixels: detail left in the picture."""
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float64)
    return float(np.mean(np.diff(pixels, axis=0) ** 2) + np.mean(np.diff(pixels, axis=1) ** 2))


def test_the_default_thumbnail_is_blurred_and_grey(
    analyst: User, item: MediaItem, as_user: Callable[[User], Client]
) -> None:
    response = as_user(analyst).get(f"/app/media/{item.code}/thumb.jpg")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    thumb = Image.open(io.BytesIO(response.content))
    assert thumb.mode == "L"
    original = io.BytesIO()
    Image.open(io.BytesIO(sharp_image())).convert("L").resize(thumb.size).save(original, "JPEG")
    assert high_frequency_energy(response.content) < high_frequency_energy(original.getvalue()) / 50


def test_every_thumbnail_view_is_audited(
    analyst: User, item: MediaItem, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    client.get(f"/app/media/{item.code}/thumb.jpg")
    client.get(f"/app/media/{item.code}/thumb.jpg")
    events = AuditEvent.objects.filter(action="media.viewed", object_id=item.code)
    assert events.count() == 2 and events.first().actor == analyst  # type: ignore[union-attr]


def test_a_signed_reveal_link_shows_the_sharp_picture_and_is_audited(
    analyst: User, item: MediaItem, as_user: Callable[[User], Client]
) -> None:
    client = as_user(analyst)
    sharp = client.get(reveal_link(analyst, item, RevealStep.COLOUR))
    assert sharp.status_code == 200
    assert Image.open(io.BytesIO(sharp.content)).mode == "RGB"
    viewed = AuditEvent.objects.filter(action="media.viewed", object_id=item.code)
    assert [e.detail["step"] for e in viewed] == ["colour"]
    blurred = client.get(f"/app/media/{item.code}/thumb.jpg").content
    assert high_frequency_energy(sharp.content) > 20 * high_frequency_energy(blurred)


def test_a_reveal_link_works_only_for_the_user_it_was_made_for(
    analyst: User, admin: User, item: MediaItem, as_user: Callable[[User], Client]
) -> None:
    link = reveal_link(analyst, item, RevealStep.GREY)
    assert as_user(admin).get(link).status_code == 404
    assert as_user(analyst).get(f"/app/media/{item.code}/view.jpg?t=forged").status_code == 404


def test_there_is_no_reveal_outside_the_workspace(
    analyst: User, item: MediaItem, as_user: Callable[[User], Client]
) -> None:
    # Revealing is counted against the analyst's daily cap in the workspace;
    # the evidence app offers no second, uncounted way.
    response = as_user(analyst).post(f"/app/media/{item.code}/reveal", {"step": "colour"})
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["outsider", "police", "isp_operator"])
def test_other_organisations_cannot_see_the_media(
    persona: str,
    request: pytest.FixtureRequest,
    item: MediaItem,
    as_user: Callable[[User], Client],
) -> None:
    client = as_user(request.getfixturevalue(persona))
    assert client.get(f"/app/media/{item.code}/thumb.jpg").status_code == 404
    user = request.getfixturevalue(persona)
    assert client.get(reveal_link(user, item, RevealStep.COLOUR)).status_code == 404
    assert not AuditEvent.objects.filter(object_id=item.code).exists()


def test_anonymous_visitors_are_sent_to_login(item: MediaItem) -> None:
    response = Client().get(f"/app/media/{item.code}/thumb.jpg")
    assert response.status_code == 302


def test_a_decompression_bomb_gets_a_placeholder_and_a_log_line_not_a_500(
    analyst: User,
    hotline_a: Organisation,
    as_user: Callable[[User], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The probe's case: 12000×12000 in 420 KB, which the thumbnail used to decode (1.7 GB).
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://bomb.test/"])
    bomb, _ = do_store_media(
        png_bomb(12000, 12000), mime="image/png", reported_url=report.urls.get()
    )

    with caplog.at_level(logging.WARNING, logger="openhotline.evidence.previews"):
        response = as_user(analyst).get(f"/app/media/{bomb.code}/thumb.jpg")

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (320, 320)
    [line] = [r.getMessage() for r in caplog.records]
    assert f"media {bomb.code} refused" in line and "12000x12000 PNG" in line
    assert AuditEvent.objects.filter(action="media.viewed", object_id=bomb.code).count() == 1


def test_blurred_thumbnails_are_cached_and_sharper_pictures_never(
    analyst: User,
    item: MediaItem,
    as_user: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    from openhotline.evidence import previews
    from openhotline.lib.blobstore import BlobStore

    cache.clear()
    reads: list[str] = []
    real_get = BlobStore.get

    def counted_get(self: BlobStore, name: str) -> bytes:
        reads.append(name)
        return real_get(self, name)

    stored: list[bytes] = []
    real_set = previews.cache.set

    def recorded_set(key: str, value: bytes, timeout: float | None = None) -> None:
        stored.append(value)
        real_set(key, value, timeout)

    monkeypatch.setattr(BlobStore, "get", counted_get)
    monkeypatch.setattr(previews.cache, "set", recorded_set)
    client = as_user(analyst)
    first = client.get(f"/app/media/{item.code}/thumb.jpg")
    second = client.get(f"/app/media/{item.code}/thumb.jpg")
    assert first.content == second.content and len(reads) == 1  # the second from the cache
    colour = client.get(f"/app/media/{item.code}/thumb.jpg?tint=colour")
    assert colour.content != first.content and len(reads) == 2  # its own entry
    for step in (RevealStep.GREY, RevealStep.COLOUR):
        for _ in range(2):
            assert client.get(reveal_link(analyst, item, step)).status_code == 200
    assert len(reads) == 6  # every reveal read and rendered afresh
    # Two entries, both blurred: no detail survives in anything the cache holds.
    assert stored == [first.content, colour.content]
    sharp = client.get(reveal_link(analyst, item, RevealStep.GREY)).content
    for body in stored:
        assert high_frequency_energy(body) < high_frequency_energy(sharp) / 50
    # Every look is audited, cached or not.
    assert AuditEvent.objects.filter(action="media.viewed", object_id=item.code).count() == 8
