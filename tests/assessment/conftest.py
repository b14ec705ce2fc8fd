from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import do_classify_item
from openhotline.assessment.models import ClassificationSource
from openhotline.evidence.actions import do_store_media
from openhotline.evidence.models import MediaItem
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource
from tests.support.evidence import own_evidence_store


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path: Path, settings: SettingsWrapper) -> Iterator[Path]:
    """Each test gets its own evidence store and key ring."""
    with own_evidence_store(settings, tmp_path) as store:
        yield store


@pytest.fixture
def senior(hotline_a: Organisation) -> User:
    return do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 9")


@pytest.fixture
def analyst2(hotline_a: Organisation) -> User:
    return do_create_user("bob", hotline_a, Role.ANALYST, password="correct horse 8")


def generated_image(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A benign generated picture full of fine detail (stripes and squares), unique per seed."""
    image = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    step = 5 + seed % 7
    for x in range(0, size[0], step):
        for y in range(0, size[1], step):
            if (x // step + y // step + seed) % 2:
                draw.rectangle((x, y, x + step - 1, y + step - 1), fill=(40 * seed % 255, 120, 200))
    draw.text((10, 10), f"generated {seed}", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_page(
    hotline: Organisation, url: str, *, images: int = 0, first_seed: int = 1, **report: object
) -> ReportedUrl:
    """A reported URL with ``images`` generated pictures found on it."""
    filed = do_file_report(hotline, source=ReportSource.PUBLIC, urls=[url], **report)  # type: ignore[arg-type]
    page = filed.urls.get()
    for n in range(images):
        do_store_media(
            generated_image(first_seed + n),
            mime="image/png",
            reported_url=page,
            source_url=f"{url}/img{n}.png",
        )
    return page


def items_of(page: ReportedUrl) -> list[MediaItem]:
    return list(MediaItem.objects.filter(url_links__reported_url=page).order_by("url_links__pk"))


def mark_known(
    hotline: Organisation, item: MediaItem, *, age_group: str = "not_determined"
) -> None:
    """What matching does for a hash-set hit: a machine classification with its reason."""
    do_classify_item(
        hotline,
        item,
        "baseline",
        analyst=None,
        source=ClassificationSource.HASH_MATCH,
        reason="set ICSE-demo, distance 4",
        age_group=age_group,
    )
