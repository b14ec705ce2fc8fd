from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.test import Client
from PIL import Image

from openhotline.accounts.models import Organisation, User
from openhotline.evidence.actions import do_store_media
from openhotline.evidence.thumbs import RevealStep, ThumbnailError
from openhotline.evidence.videostrip import CELL, render_strip, sample_frames
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource
from tests.conftest import TESTDATA
from tests.evidence.test_views import high_frequency_energy

VIDEO = TESTDATA / "vpdq" / "pattern-sd-grey-bar.mp4"


def test_frames_are_sampled_across_the_video_in_memory() -> None:
    frames = sample_frames(VIDEO.read_bytes(), count=5)
    assert len(frames) == 5
    assert all(max(frame.size) <= CELL for frame in frames)
    # Spread over the clip, not five copies of the first frame.
    assert len({frame.tobytes() for frame in frames}) > 1


def test_the_default_strip_is_blurred_and_grey() -> None:
    data = VIDEO.read_bytes()
    blurred = render_strip(data)
    sharp = render_strip(data, RevealStep.COLOUR)
    assert Image.open(io.BytesIO(blurred)).mode == "L"
    assert Image.open(io.BytesIO(sharp)).mode == "RGB"
    assert high_frequency_energy(blurred) < high_frequency_energy(sharp) / 10


def test_a_file_that_is_not_a_video_is_refused() -> None:
    with pytest.raises(ThumbnailError):
        sample_frames(b"not a video at all")


@pytest.mark.django_db
def test_a_videos_thumbnail_is_its_blurred_strip(
    hotline_a: Organisation, analyst: User, as_user: Callable[[User], Client]
) -> None:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://video.test/v"])
    item, _ = do_store_media(VIDEO.read_bytes(), mime="video/mp4", reported_url=report.urls.get())
    response = as_user(analyst).get(f"/app/media/{item.code}/thumb.jpg")
    strip = Image.open(io.BytesIO(response.content))
    assert strip.mode == "L" and strip.width > 3 * strip.height
