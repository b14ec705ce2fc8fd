from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pytest_django import Settings as SettingsWrapper

from tests.support.evidence import own_evidence_store


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path: Path, settings: SettingsWrapper) -> Iterator[Path]:
    """Each test gets its own store and key ring."""
    with own_evidence_store(settings, tmp_path) as store:
        yield store


def sharp_image(seed: int = 1, size: tuple[int, int] = (640, 480)) -> bytes:
    """A generated picture full of fine detail (a chequerboard with stripes)."""
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    step = 6 + seed % 5
    for x in range(0, size[0], step):
        for y in range(0, size[1], step):
            if (x // step + y // step) % 2:
                draw.rectangle((x, y, x + step - 1, y + step - 1), fill=(200, 30 * seed % 255, 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
