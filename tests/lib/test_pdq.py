from __future__ import annotations

import csv
import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from openhotline.lib.pdq import (
    DIHEDRAL_NAMES,
    crypto_hashes,
    hash_image,
    hash_stream,
    pdq_distance,
    pdq_hex,
)

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "pdq"
EXPECTED = {
    row["file"]: row["pdq_hex"]
    for row in csv.DictReader((TESTDATA / "expected.csv").open(encoding="utf-8"))
}
BRIDGES = [
    "bridge-1-original.jpg",
    "bridge-2-rotate-90.jpg",
    "bridge-3-rotate-180.jpg",
    "bridge-4-rotate-270.jpg",
    "bridge-5-flipx.jpg",
    "bridge-6-flipy.jpg",
    "bridge-7-flip-plus-1.jpg",
    "bridge-8-flip-minus-1.jpg",
]


def _jpeg(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: opening it costs nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_images_of_quality_80_hash_within_8_of_their_reference(name: str) -> None:
    result = hash_image(TESTDATA / name)

    assert result.error is None
    assert result.pdq is not None and len(result.pdq) == 64
    if result.pdq_quality is not None and result.pdq_quality >= 80:
        assert pdq_distance(result.pdq, EXPECTED[name]) <= 8
    else:
        # The README names the low-quality images; they must be reported as such.
        assert name in {"small.jpg", "q0003.jpg", "q0004.jpg"}
        assert result.pdq_quality is not None and result.pdq_quality < 50


def test_it_reports_dimensions_format_and_mime() -> None:
    result = hash_image(TESTDATA / "bridge-2-rotate-90.jpg")

    assert (result.width, result.height) == (1004, 1600)
    assert (result.format, result.mime) == ("JPEG", "image/jpeg")
    assert result.frame_count == 1 and result.frames == ()


def test_hex_puts_bit_zero_in_the_top_bit_of_the_first_byte() -> None:
    bits = np.zeros(256, dtype=np.uint8)
    bits[0] = 1
    bits[255] = 1

    assert pdq_hex(bits) == "80" + "00" * 30 + "01"


def test_rotated_and_mirrored_bridges_match_a_dihedral_variant_of_the_original() -> None:
    original = hash_image(TESTDATA / BRIDGES[0])
    assert len(original.dihedral) == len(DIHEDRAL_NAMES) == 8
    assert original.dihedral[0] == original.pdq

    for k, name in enumerate(BRIDGES):
        copy = hash_image(TESTDATA / name)
        assert copy.pdq is not None
        assert pdq_distance(original.dihedral[k], copy.pdq) <= 31, name
        if k:  # without the variants, the plain hashes would not match
            assert pdq_distance(original.pdq or "", copy.pdq) > 31, name


def test_paths_and_bytes_give_the_same_hashes() -> None:
    path = TESTDATA / "q0291.jpg"
    data = path.read_bytes()

    from_path, from_bytes = hash_image(path), hash_image(data)

    assert from_path == from_bytes
    assert from_path.sha256 == hashlib.sha256(data).hexdigest()
    assert from_path.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert from_path.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()
    assert from_path.size == len(data)


def test_stream_hashing_in_small_chunks_equals_hashing_at_once() -> None:
    data = np.random.default_rng(1).integers(0, 256, 100_003, dtype=np.uint8).tobytes()

    streamed = hash_stream(io.BytesIO(data), chunk_size=4093)

    assert streamed == crypto_hashes(data)
    assert streamed.sha256 == hashlib.sha256(data).hexdigest()
    assert streamed.size == len(data)


def test_a_truncated_jpeg_is_recorded_with_its_crypto_hashes() -> None:
    data = (TESTDATA / "bridge-1-original.jpg").read_bytes()[:30_000]

    result = hash_image(data)

    assert result.error is not None and "truncated" in result.error
    assert result.pdq is None and result.dihedral == ()
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_garbage_is_recorded_not_raised() -> None:
    data = b"\xff\xd8\xff\xe0 not really a jpeg" * 50

    result = hash_image(data)

    assert result.error is not None
    assert result.pdq is None
    assert result.size == len(data)


@pytest.mark.parametrize("side", [5_000, 10_000, 20_000])
def test_a_decompression_bomb_is_refused_before_decoding(side: int) -> None:
    # 25 Mpx is under Pillow's own limit (where it would decode silently), 100 Mpx is
    # where Pillow only warns, 400 Mpx where it refuses: lib/imagedecode refuses all
    # three from the header (the first two with the declared size recorded).
    result = hash_image(_png_header_only(side, side))

    assert result.error is not None and "ImageRefused" in result.error
    if side < 20_000:
        assert f"{side}x{side}" in result.error
        assert (result.format, result.width, result.height) == ("PNG", side, side)
    assert result.pdq is None
    assert result.sha256


def test_formats_outside_the_allowlist_are_refused_without_decoding() -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    assert Image.open(io.BytesIO(eps)).format == "EPS"  # Pillow would take it (Ghostscript)

    result = hash_image(eps)

    assert result.error is not None and "UnidentifiedImageError" in result.error
    assert result.format is None


def test_animated_gif_frames_are_hashed_each_up_to_the_limit() -> None:
    rng = np.random.default_rng(7)
    frames = [
        Image.fromarray(rng.integers(0, 256, (96, 128), dtype=np.uint8), "L").convert("P")
        for _ in range(5)
    ]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)

    everything = hash_image(out.getvalue())
    bounded = hash_image(out.getvalue(), max_frames=3)

    assert everything.error is None
    assert everything.frame_count == 5
    assert [f.index for f in everything.frames] == [0, 1, 2, 3, 4]
    assert len({f.pdq for f in everything.frames}) == 5
    assert everything.frames[0].pdq == everything.pdq
    assert bounded.frame_count == 5 and len(bounded.frames) == 3
    assert bounded.frames == everything.frames[:3]


def test_a_gif_cut_short_keeps_the_frames_before_the_cut() -> None:
    rng = np.random.default_rng(8)
    frames = [
        Image.fromarray(rng.integers(0, 256, (96, 128), dtype=np.uint8), "L").convert("P")
        for _ in range(5)
    ]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    whole = hash_image(out.getvalue())

    cut = hash_image(out.getvalue()[: len(out.getvalue()) * 7 // 10])

    assert cut.error is not None and cut.error.startswith(f"frame {len(cut.frames)}:")
    assert 1 <= len(cut.frames) < 5
    assert cut.frames == whole.frames[: len(cut.frames)]
    assert cut.pdq == whole.pdq


def test_exif_summary_keeps_camera_time_orientation_and_position() -> None:
    exif = Image.Exif()
    exif[271], exif[272], exif[274] = "TestCam", "Model X\x00", 6
    exif.get_ifd(0x8769)[36867] = "2024:01:02 03:04:05"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (33.0, 51.0, 54.0), "W", (151.0, 12.0, 36.0)
    data = _jpeg(Image.new("RGB", (64, 48), (120, 30, 200)), exif=exif)

    summary = hash_image(data).exif

    assert summary == {
        "make": "TestCam",
        "model": "Model X",
        "datetime_original": "2024:01:02 03:04:05",
        "orientation": 6,
        "gps_latitude": -33.865,
        "gps_longitude": -151.21,
    }


@pytest.mark.parametrize(("name", "side"), [("c.png", 3200), ("bridge-3-rotate-180.jpg", 2600)])
def test_large_photo_fast_path_stays_within_8_of_a_full_decode(name: str, side: int) -> None:
    # Sizes where drafting down to 512 pixels drifted by 12 bits (c.png at 3200 pixels,
    # the bridge at 2600): the fast path keeps at least 1024.
    source = Image.open(TESTDATA / name).convert("RGB")
    scale = side / max(source.size)
    size = (round(source.width * scale), round(source.height * scale))
    data = _jpeg(source.resize(size, Image.Resampling.BICUBIC), quality=90)

    fast = hash_image(data)
    bits, quality = pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))

    assert quality >= 80
    assert fast.pdq is not None and (fast.width, fast.height) == size
    assert pdq_distance(fast.pdq, pdq_hex(bits)) <= 8


# The photos of benchmarks/hashing.py: each test image of PDQ quality >= 80 at least 1024
# pixels long, upscaled to about 12 megapixels and saved as a JPEG of quality 90.
PHOTO_SOURCES = [
    name
    for name in sorted(EXPECTED)
    if max(Image.open(TESTDATA / name).size) >= 1024
    and pdqhash.compute(np.asarray(Image.open(TESTDATA / name).convert("RGB")))[1] >= 80
]


def test_the_photo_set_is_the_bridges_and_c_png() -> None:
    # The drift test below is only as good as its set: nine photos, as the benchmark's.
    assert PHOTO_SOURCES == sorted([*BRIDGES, "c.png"])


@pytest.mark.parametrize("name", PHOTO_SOURCES)
def test_reduced_decoding_of_a_12_megapixel_photo_drifts_8_bits_at_most(name: str) -> None:
    # The worst case of benchmarks/hashing.py, over every one of its photos: the fast path
    # (DCT-scaled luma decode) against pdqhash on the full RGB decode.
    source = Image.open(TESTDATA / name).convert("RGB")
    scale = (12e6 / (source.width * source.height)) ** 0.5
    size = (round(source.width * scale), round(source.height * scale))
    data = _jpeg(source.resize(size, Image.Resampling.BICUBIC), quality=90)

    fast = hash_image(data)
    bits, quality = pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))

    assert quality >= 80 and fast.pdq is not None
    assert pdq_distance(fast.pdq, pdq_hex(bits)) <= 8


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    luma = np.asarray(Image.open(TESTDATA / "bridge-1-original.jpg").convert("L"))
    deep = Image.fromarray(luma.astype(np.uint16) * 257)
    out = io.BytesIO()
    deep.save(out, "PNG")

    deep_hash = hash_image(out.getvalue())
    plain_hash = hash_image(TESTDATA / "bridge-1-original.jpg")

    assert deep_hash.pdq_quality == 100
    assert pdq_distance(deep_hash.pdq or "", plain_hash.pdq or "") <= 10
