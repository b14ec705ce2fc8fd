"""Fixtures of the matching tests: a store and an index of the test's own, stored items,
hash sets, and VICS files."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.actions import do_create_api_key, do_create_organisation, do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.evidence.actions import do_store_media
from openhotline.evidence.models import MediaItem
from openhotline.evidence.tasks import hash_media_item
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource
from tests.support.evidence import own_evidence_store

VICS2_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
VICS1_CONTEXT = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases"


@pytest.fixture(autouse=True)
def own_dirs(tmp_path: Path, settings: SettingsWrapper) -> Iterator[Path]:
    """Each test gets its own evidence store, key ring and PDQ index."""
    settings.OPENHOTLINE_MATCHING_INDEX_DIR = tmp_path / "index"
    with own_evidence_store(settings, tmp_path):
        yield tmp_path / "index"


@pytest.fixture
def senior(hotline_a: Organisation) -> User:
    return do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 9")


@pytest.fixture
def partner_org(db: Any) -> Organisation:
    return do_create_organisation("Platform Partner", "partner", "DK")


@pytest.fixture
def key_of() -> Any:
    def make(organisation: Organisation, scope: str = "read") -> str:
        return do_create_api_key(organisation, "matching", scope)[1]

    return make


def picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A benign generated picture of large shapes on a gradient, unique per seed.

    Coarse structure, like a photograph's, so that resizing and re-encoding move its
    PDQ hash by a few bits only, while different seeds are far apart.
    """
    rng = random.Random(seed)
    width, height = size
    gradient = Image.linear_gradient("L").resize(size).rotate(rng.choice([0, 90, 180, 270]))
    image = Image.merge(
        "RGB",
        (
            gradient,
            gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            Image.new("L", size, rng.randrange(256)),
        ),
    )
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(width // 8, width // 2), rng.randrange(height // 8, height // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x - w // 2, y - h // 2, x + w // 2, y + h // 2), fill=colour)
    return image


def encode(image: Image.Image, format: str = "PNG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def store_item(
    hotline: Organisation | None, data: bytes, *, mime: str = "image/png", url: str = ""
) -> MediaItem:
    """Store ``data`` as found on a reported URL of ``hotline``, and hash it."""
    page = None
    if hotline is not None:
        address = url or f"http://site.test/{len(data)}-{hash(data) & 0xFFFF}"
        page = do_file_report(hotline, source=ReportSource.PUBLIC, urls=[address]).urls.get()
    item, _ = do_store_media(data, mime=mime, reported_url=page, source_url="http://img.test/x")
    hash_media_item(item.pk)
    item.refresh_from_db()
    return item


def vics_media_file(
    path: Path, records: list[dict[str, Any]], context: str = VICS2_CONTEXT
) -> Path:
    path.write_text(json.dumps({"@odata.context": context, "value": records}))
    return path
