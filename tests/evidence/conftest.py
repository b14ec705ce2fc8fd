"""Every evidence test runs twice: on the local directory store and on S3.

The S3 runs use a real S3-compatible server on loopback (moto's, see
tests/support/s3.py), a new bucket each. A test that has nothing to do with
where blobs live says so with ``@pytest.mark.evidence_backends("local")``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pytest_django import Settings as SettingsWrapper

from tests.support.evidence import EvidenceBackend, own_evidence_store

BACKENDS = ("local", "s3")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "evidence_backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("evidence_backends")
        names = marker.args if marker else BACKENDS
        metafunc.parametrize("evidence_backend", names, indirect=True)


@pytest.fixture
def evidence_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def evidence_store(
    evidence_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    settings: SettingsWrapper,
) -> Iterator[EvidenceBackend]:
    """Each test gets its own store (a directory, or a bucket) and key ring."""
    url, client = "", None
    if evidence_backend == "s3":
        url = request.getfixturevalue("s3_evidence_url")
        client = request.getfixturevalue("s3_server").client()
    with own_evidence_store(settings, tmp_path, s3_url=url) as directory:
        yield EvidenceBackend(evidence_backend, directory, url, client)


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
