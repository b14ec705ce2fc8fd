"""Hostile images cannot make a render or a hash use more than 256 MiB.

Each shape is rendered (thumbnail) and hashed in a fresh process that
reports its own peak RSS, so what one decode costs is measured, not guessed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.imagebombs import BOMB_SHAPES, png_bomb, write_bombs

# Decoding only: where blobs are stored plays no part.
pytestmark = pytest.mark.evidence_backends("local")

LIMIT_MIB = 256

# Runs in the child: Django set up as in a web or worker process, then one job.
CHILD = textwrap.dedent(
    """
    import json, sys, threading
    import django
    django.setup()
    from openhotline.evidence.thumbs import ThumbnailError, render_thumbnail
    from openhotline.lib.pdq import hash_image

    job, path = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read()
    outcome = []
    if job == "thumbnail":
        try:
            render_thumbnail(data)
            outcome.append("rendered")
        except ThumbnailError as exc:
            outcome.append(f"refused: {exc}")
    elif job == "hash":
        result = hash_image(data)
        outcome.append(f"refused: {result.error}" if result.error else "hashed")
    elif job == "parallel":
        def one():
            try:
                render_thumbnail(data)
                outcome.append("rendered")
            except ThumbnailError as exc:
                outcome.append(f"refused: {exc}")
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # VmHWM is this program's own peak; ru_maxrss would carry the forking
    # parent's (pytest's) peak across exec.
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps({"peak_mib": round(peak, 1), "outcome": outcome}))
    """
)


def measure(job: str, path: Path, data_dir: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "openhotline.settings",
        "OPENHOTLINE_DATA": str(data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, job, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_bombs(tmp_path_factory.mktemp("bombs"))


@pytest.mark.parametrize("shape", sorted(BOMB_SHAPES))
@pytest.mark.parametrize("job", ["thumbnail", "hash"])
def test_no_image_makes_a_render_or_a_hash_pass_256_mib(
    bombs: dict[str, Path], shape: str, job: str, tmp_path: Path
) -> None:
    result = measure(job, bombs[shape], tmp_path)

    print(f"{job} {shape}: {result}")
    assert result["peak_mib"] < LIMIT_MIB  # type: ignore[operator]


def test_the_probes_png_is_refused_with_its_size(bombs: dict[str, Path], tmp_path: Path) -> None:
    result = measure("thumbnail", bombs["png-12000x12000"], tmp_path)

    outcome = result["outcome"][0]  # type: ignore[index]
    assert outcome.startswith("refused") and "12000x12000" in outcome


def test_eight_parallel_renders_of_a_large_allowed_image_stay_bounded(tmp_path: Path) -> None:
    # 4000×4000 RGB is under the pixel limit, so every render must succeed,
    # but eight decodes at once (48 MB each, plus working copies) must not.
    path = tmp_path / "large.png"
    path.write_bytes(png_bomb(4000, 4000))

    result = measure("parallel", path, tmp_path)

    print(f"parallel: {result}")
    assert result["outcome"] == ["rendered"] * 8
    assert result["peak_mib"] < LIMIT_MIB  # type: ignore[operator]
