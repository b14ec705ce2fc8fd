"""Hashes of an image: MD5/SHA-1/SHA-256 and PDQ (with its 8 dihedral variants).

Known material is recognised by exact hashes (any byte changed defeats them) and by PDQ,
Meta's 256-bit perceptual hash, which survives re-encoding and resizing. PDQ hashes of
rotated or mirrored copies differ, so the 8 dihedral variants are kept too: a copy that
was rotated by 90 degrees matches one of them.

Hashing never raises for bad content: undecodable, truncated and oversized images (past
the decode limits of `lib.imagedecode`, through which every image is opened) and
formats outside `imagedecode.IMAGE_FORMATS` give an `ImageHashes` with `error` set and the
cryptographic hashes filled, so a worker records them and goes on.

PDQ reduces every image to 64x64 luma before its DCT, so decoding a 12-megapixel photo
in full is wasted work. Large images (LARGE_SIDE and up) are decoded at a reduced scale
(JPEG: libjpeg's DCT scaling via `Image.draft`, luma only) and shrunk by whole factors
only, keeping at least LARGE_MIN_SIDE pixels; PDQ's own filter does the rest. Smaller
ones are box-resized to at most WORKING_SIZE. Over the test data this stays within 8 bits
of the reference hashes (the reference tool resizes to 512x512 first), and within 8 bits
of hashing the full decode of 12-megapixel photos (it was 10 with a fractional box resize
to WORKING_SIZE), about 25 times faster (`benchmarks/hashing.py`).

The hex form has 64 characters; bit 0 of the hash is the most significant bit of the
first byte (as in ThreatExchange and `pdqhash`).
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

import numpy as np
import pdqhash
from PIL import Image

from openhotline.lib.imagedecode import ImageRefused, declared_size, open_image

READ_CHUNK = 1 << 20
# Long side of the image PDQ is computed from, for images under LARGE_SIDE; 1024 =
# 16 x 64, so PDQ's own box filters get whole-pixel windows.
WORKING_SIZE = 1024
# Images at least this long are decoded at a reduced scale and shrunk by whole factors
# only, keeping at least LARGE_MIN_SIDE on their long side (512 moved hashes by up to 12
# bits from a full decode at some sizes; 1024 stays within 8 from 2100 to 4600 pixels).
LARGE_SIDE = 2 * WORKING_SIZE
LARGE_MIN_SIDE = WORKING_SIZE
# Frames hashed in an animated image (GIF, APNG, WebP); the rest are counted only.
MAX_FRAMES = 64
DIHEDRAL_NAMES = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
)

Source = str | os.PathLike[str] | bytes


@dataclass(frozen=True)
class CryptoHashes:
    """Exact hashes (lower-case hex) and size in bytes of some content."""

    md5: str
    sha1: str
    sha256: str
    size: int


def hash_stream(stream: BinaryIO, chunk_size: int = READ_CHUNK) -> CryptoHashes:
    """MD5, SHA-1 and SHA-256 of a stream, read in chunks so that memory stays flat."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha1 = hashlib.sha1(usedforsecurity=False)
    sha256 = hashlib.sha256()
    size = 0
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    while True:
        n = stream.readinto(view)  # type: ignore[attr-defined]
        if not n:
            break
        chunk = view[:n]
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
        size += n
    return CryptoHashes(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest(), size)


def crypto_hashes(source: Source) -> CryptoHashes:
    """`hash_stream` of a file path or of bytes."""
    if isinstance(source, bytes):
        return hash_stream(io.BytesIO(source))
    with open(source, "rb") as fh:
        return hash_stream(fh)


@dataclass(frozen=True)
class FrameHash:
    """PDQ hash of one frame of an animated image."""

    index: int
    pdq: str
    quality: int


@dataclass
class ImageHashes:
    """Everything `hash_image` learns about an image.

    `pdq`/`pdq_quality` describe the (first) frame. `dihedral` holds its 8 variants in
    DIHEDRAL_NAMES order, the first being `pdq` itself. Hashes of quality < 50 should not
    be used for matching. `frames` is filled for animated images only. `error` is set
    when the file could not be decoded; if `pdq` is set too, it was decoded in part (an
    animated image whose later frames are broken).
    """

    md5: str
    sha1: str
    sha256: str
    size: int
    format: str | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    dihedral: tuple[str, ...] = ()
    frame_count: int = 0
    frames: tuple[FrameHash, ...] = ()
    exif: dict[str, str | int | float] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def pdq_hex(bits: np.ndarray) -> str:
    """Hex form of a 256-element 0/1 vector as returned by `pdqhash`."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def pdq_distance(a: str, b: str) -> int:
    """Hamming distance between two hex PDQ hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def pdq_of_array(pixels: np.ndarray) -> tuple[str, int]:
    """PDQ hash and quality of an (h, w, 3) uint8 RGB array (or a luma one broadcast so)."""
    bits, quality = pdqhash.compute(pixels)
    return pdq_hex(bits), int(quality)


def hash_image(source: Source, *, max_frames: int = MAX_FRAMES) -> ImageHashes:
    """Hash an image file (path) or image bytes. Never raises for bad content.

    1. Cryptographic hashes, streamed.
    2. Open through `lib.imagedecode` (JPEGs at a reduced scale, luma only); refuse
       what would cost too much to decode, before decoding.
    3. Dimensions, format and an EXIF summary.
    4. PDQ and its dihedral variants from the reduced luma image (see module docstring).
    5. For animated images, PDQ of up to `max_frames` frames.
    """
    crypto = crypto_hashes(source)
    result = ImageHashes(crypto.md5, crypto.sha1, crypto.sha256, crypto.size)
    try:
        with open_image(
            source, fit=LARGE_MIN_SIDE, draft_above=LARGE_SIDE, draft_mode="L"
        ) as image:
            _describe(image, result)
            _hash_pixels(image, result, max_frames)
    except ImageRefused as exc:
        result.format, result.width, result.height = exc.format, exc.width, exc.height
        result.mime = Image.MIME.get(exc.format or "")
        result.error = f"ImageRefused: {exc}"[:500]
    except Exception as exc:  # any decoder failure is a property of the file
        result.error = f"{type(exc).__name__}: {exc}"[:500]
        result.pdq = result.pdq_quality = None
        result.dihedral = result.frames = ()
    return result


def _describe(image: Image.Image, result: ImageHashes) -> None:
    result.format = image.format
    result.mime = Image.MIME.get(image.format or "")
    # The size in the header, not the reduced size a JPEG draft decodes at.
    result.width, result.height = declared_size(image)
    result.frame_count = int(getattr(image, "n_frames", 1))
    result.exif = exif_summary(image)


# EXIF tags worth showing an analyst or a police officer: camera, software, times, place.
_EXIF_TEXT = {271: "make", 272: "model", 305: "software", 306: "datetime"}
_EXIF_IFD, _GPS_IFD, _DATETIME_ORIGINAL, _ORIENTATION = 0x8769, 0x8825, 36867, 274


def exif_summary(image: Image.Image) -> dict[str, str | int | float]:
    """A few EXIF fields, cleaned; {} when there is no (readable) EXIF."""
    summary: dict[str, str | int | float] = {}
    try:
        exif = image.getexif()
        for tag, name in _EXIF_TEXT.items():
            if isinstance(exif.get(tag), (str, bytes)):
                summary[name] = _exif_text(exif[tag])
        original = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL)
        if isinstance(original, (str, bytes)):
            summary["datetime_original"] = _exif_text(original)
        orientation = exif.get(_ORIENTATION)
        if isinstance(orientation, int) and 1 <= orientation <= 8:
            summary["orientation"] = orientation
        gps = exif.get_ifd(_GPS_IFD)
        if gps:
            summary["gps_latitude"] = _degrees(gps[2], gps.get(1, "N"), "S")
            summary["gps_longitude"] = _degrees(gps[4], gps.get(3, "E"), "W")
    except Exception:  # broken EXIF must not stop hashing; keep what was read
        if "gps_longitude" not in summary:  # no half a position
            summary.pop("gps_latitude", None)
    return summary


def _exif_text(value: str | bytes) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.replace("\x00", "").strip()[:200]


def _degrees(dms: tuple, ref: str | bytes, negative: str) -> float:
    degrees, minutes, seconds = (float(x) for x in dms)
    value = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return round(-value if ref.strip().upper() == negative else value, 7)


def _hash_pixels(image: Image.Image, result: ImageHashes, max_frames: int) -> None:
    if result.frame_count <= 1:
        bits, quality = pdqhash.compute_dihedral(_as_rgb_view(working_luma(image)))
        result.dihedral = tuple(pdq_hex(b) for b in bits)
        result.pdq, result.pdq_quality = result.dihedral[0], int(quality)
        return
    bits, quality = pdqhash.compute_dihedral(_as_rgb_view(working_luma(image)))
    result.dihedral = tuple(pdq_hex(b) for b in bits)
    result.pdq, result.pdq_quality = result.dihedral[0], int(quality)
    frames = [FrameHash(0, result.pdq, result.pdq_quality)]
    try:
        for index in range(1, min(max_frames, result.frame_count)):
            image.seek(index)
            frames.append(FrameHash(index, *pdq_of_array(_as_rgb_view(working_luma(image)))))
    except Exception as exc:  # a broken later frame: keep the frames before it
        result.error = f"frame {len(frames)}: {type(exc).__name__}: {exc}"[:500]
    result.frames = tuple(frames)


def working_luma(image: Image.Image) -> Image.Image:
    """The image as 8-bit luma, ready for PDQ, without a full decode of a large image.

    Large images (declared long side at least LARGE_SIDE):
    1. JPEG: libjpeg's smallest DCT scale (1/2, 1/4, 1/8) that keeps the long side at
       least LARGE_MIN_SIDE, the Y channel only (`open_image(fit=..., draft_above=...)`
       asks for it; called on its own, this function asks itself).
    2. Luma (ITU-R 601, as PDQ does), shrunk by the largest whole factor that keeps the
       long side at least LARGE_MIN_SIDE (`reduce`: a box average over whole pixels).
       No resize by a fractional factor follows: PDQ's own filter brings any size to
       64x64, and a fractional box resize here was what moved hashes most from those of
       a full decode (10 bits, against 8 without it: benchmarks/hashing.py).

    Smaller images are decoded in full and box-resized to at most WORKING_SIZE on their
    long side, which keeps them closest to the reference tool's hashes (it resizes to
    512x512 first): within 8 bits on the test data.
    """
    declared = getattr(image, "declared_size", image.size)
    if max(declared) < LARGE_SIDE:
        return _fitted_luma(image)
    width, height = image.size
    factor = max(1, max(width, height) // LARGE_MIN_SIDE)
    if image.format == "JPEG" and getattr(image, "n_frames", 1) == 1 and factor >= 2:
        # A no-op when open_image has drafted already (libjpeg drafts once).
        image.draft("L", (max(1, width // factor), max(1, height // factor)))
    factor = max(1, max(image.size) // LARGE_MIN_SIDE)
    if factor >= 2 and (image.mode.startswith("I") or image.mode == "F"):
        # 16/32-bit grey is scaled through a float array: shrink it first, not after.
        image, factor = image.reduce(factor), 1
    luma = _to_luma(image)
    return luma.reduce(factor) if factor >= 2 else luma


def _fitted_luma(image: Image.Image) -> Image.Image:
    """Luma box-resized to at most WORKING_SIZE on its long side (whole factors first)."""
    width, height = image.size
    scale = min(1.0, WORKING_SIZE / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    if image.mode.startswith("I") or image.mode == "F":
        image = image.resize(target, Image.Resampling.BOX)
    luma = _to_luma(image)
    if luma.size != target:
        factor = min(luma.width // target[0], luma.height // target[1])
        if factor >= 2:
            luma = luma.reduce(factor)
        if luma.size != target:
            luma = luma.resize(target, Image.Resampling.BOX)
    return luma


def _to_luma(image: Image.Image) -> Image.Image:
    if image.mode == "L":
        image.load()
        return image
    if image.mode.startswith("I"):  # 16/32-bit grey: scale to 8 bits instead of clipping
        values = np.asarray(image, dtype=np.float64)
        top = max(float(values.max()), 255.0)
        return Image.fromarray((values * (255.0 / top)).round().astype(np.uint8), "L")
    if image.mode in ("RGB", "RGBA", "RGBX", "P", "PA", "LA", "1", "L", "YCbCr"):
        return image.convert("L")
    return image.convert("RGB").convert("L")


def _as_rgb_view(luma: Image.Image) -> np.ndarray:
    """Luma as the (h, w, 3) array `pdqhash` wants, without copying: R = G = B = Y, and
    PDQ's weights (0.299 + 0.587 + 0.114) sum to one."""
    array = np.asarray(luma, dtype=np.uint8)
    return np.broadcast_to(array[:, :, None], (*array.shape, 3))


__all__ = [
    "DIHEDRAL_NAMES",
    "CryptoHashes",
    "FrameHash",
    "ImageHashes",
    "crypto_hashes",
    "hash_image",
    "hash_stream",
    "pdq_distance",
    "pdq_hex",
    "pdq_of_array",
    "working_luma",
]
