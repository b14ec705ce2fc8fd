"""The one way images are decoded: sized from the header, reduced where possible, bounded.

A hostile image is small on the wire and huge in memory: a 420 KB PNG can
declare 12000×12000 pixels (432 MB once decoded), a progressive JPEG makes
libjpeg hold every DCT coefficient of its declared size, zTXt chunks inflate
to megabytes of text. Hashing, thumbnails, crawl screenshots, the police
portal and the API all open images through `open_image`, which:

1. opens the file lazily with Pillow (the header only) and accepts the
   raster formats of IMAGE_FORMATS only;
2. asks for reduced-size decoding where the format has it (JPEG DCT scaling
   through `Image.draft`), for a caller that wants a small picture;
3. estimates what decoding will cost (pixels after reduction, four bytes
   each; twice for animations, which keep the previous frame; the declared
   size for progressive JPEGs, whose coefficients libjpeg buffers at full
   size) and refuses past `max_pixels`×4 bytes with `ImageRefused`, before
   a single pixel is decoded;
4. reserves twice that cost from the process-wide decode memory (a weighted
   semaphore, `configure(memory=…)`) and holds it while the caller decodes,
   so N parallel requests cannot each decode a large picture at once.

Video frames are checked with `check_frame` and decoded inside `decode_slot`.
Pillow's own limits stay on as a second line: `Image.MAX_IMAGE_PIXELS` and
PNG text chunks, lowered to `MAX_PNG_TEXT_MEMORY` in total.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from PIL import Image, PngImagePlugin

# Raster formats of the web and of cameras. Others are refused: EPS would run
# Ghostscript on hostile input, and rare decoders are where the bugs are.
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "BMP", "TIFF", "ICO")
# 16 Mpx (4000×4000) decoded, 64 MB at four bytes a pixel: two such decodes at
# once plus a Django process stay under 256 MiB. JPEGs of any camera fit after
# reduced decoding.
DEFAULT_MAX_PIXELS = 16_000_000
# All decodes of one process together: one image at the limit (with its working
# copy) at a time, or several smaller ones in parallel.
DEFAULT_DECODE_MEMORY = 128 * 1024 * 1024
# A decode reserves its decoded size this many times: the picture and one
# full-size working copy (premultiplied alpha, a mode conversion).
WORKING_COPIES = 2
BYTES_PER_PIXEL = 4  # the widest Pillow mode (RGBA, CMYK, I, F)
# libjpeg's progressive coefficient buffers: 2 bytes per coefficient, up to
# three full-resolution components (4:4:4).
PROGRESSIVE_BYTES_PER_PIXEL = 6
# Decompressed PNG text (tEXt/zTXt/iTXt, iCCP) kept per image; Pillow allows 64 MB.
MAX_PNG_TEXT_MEMORY = 4 * 1024 * 1024

Source = str | os.PathLike[str] | bytes


class ImageRefused(ValueError):
    """The image would cost too much to decode, or is not an image we decode.

    `width`/`height` are the declared dimensions when the header was read.
    """

    def __init__(
        self,
        reason: str,
        *,
        width: int | None = None,
        height: int | None = None,
        image_format: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.width, self.height, self.format = width, height, image_format


class DecodeBusy(ImageRefused):
    """The decode memory did not come free in time (other images are being decoded)."""


class _Budget:
    """A weighted semaphore over bytes: decodes wait until their share is free."""

    def __init__(self, max_pixels: int, memory: int) -> None:
        self.max_pixels = max_pixels
        self.memory = memory
        self.in_use = 0
        self.peak = 0  # the most ever reserved at once, for the tests and the logs
        self.cond = threading.Condition()

    @contextmanager
    def reserve(self, amount: int, wait: float | None) -> Iterator[None]:
        amount = max(1, amount)
        if amount > self.memory:
            raise ImageRefused(
                f"a decode needing {amount >> 20} MiB can never fit the decode memory of"
                f" {self.memory >> 20} MiB"
            )
        with self.cond:
            if not self.cond.wait_for(lambda: self.in_use + amount <= self.memory, wait):
                raise DecodeBusy(f"the image decoders are busy (waited {wait:g}s)")
            self.in_use += amount
            self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            with self.cond:
                self.in_use -= amount
                self.cond.notify_all()


_limits = _Budget(DEFAULT_MAX_PIXELS, DEFAULT_DECODE_MEMORY)
_configure_lock = threading.Lock()


def configure(*, max_pixels: int, memory: int) -> None:
    """Set the process-wide limits (the evidence app does, from the settings, at start-up).

    `max_pixels`: the most pixels one decode may produce. `memory`: bytes all
    decodes of this process may hold at once (each reserves WORKING_COPIES
    times its decoded size).
    """
    global _limits
    with _configure_lock:
        if (max_pixels, memory) != (_limits.max_pixels, _limits.memory):
            _limits = _Budget(max_pixels, memory)


def max_pixels() -> int:
    return _limits.max_pixels


def decode_memory() -> int:
    return _limits.memory


def peak_reserved() -> int:
    """The most bytes decodes of this process have reserved at once."""
    return _limits.peak


@contextmanager
def decode_slot(amount: int, wait: float | None = None) -> Iterator[None]:
    """Reserve `amount` bytes of the decode memory; `DecodeBusy` after `wait` seconds."""
    with _limits.reserve(amount, wait):
        yield


def declared_size(image: Image.Image) -> tuple[int, int]:
    """The size in the header of an image from `open_image` (a draft may decode it smaller)."""
    size: tuple[int, int] = getattr(image, "declared_size", image.size)
    return size


def check_frame(width: int, height: int) -> None:
    """Refuse a (video) frame whose decoded size passes the pixel limit."""
    if width < 1 or height < 1:
        raise ImageRefused(f"{width}x{height} has no pixels", width=width, height=height)
    if width * height > _limits.max_pixels:
        raise ImageRefused(
            f"{width}x{height} frames are over the limit of {_limits.max_pixels} pixels",
            width=width,
            height=height,
        )


def frame_cost(width: int, height: int) -> int:
    """What decoding one video frame reserves (the frame, its RGB copy, decoder buffers)."""
    return width * height * BYTES_PER_PIXEL * WORKING_COPIES


def is_progressive_jpeg(image: Image.Image) -> bool:
    return image.format == "JPEG" and bool(
        image.info.get("progressive") or image.info.get("progression")
    )


def decode_cost(image: Image.Image, declared: tuple[int, int] | None = None) -> int:
    """Bytes a full decode of `image` (after any draft) will hold, at most.

    `declared` is the size in the header, when a draft has reduced `image.size`.
    """
    width, height = image.size
    cost = width * height * BYTES_PER_PIXEL
    if getattr(image, "is_animated", False):
        cost *= 2  # the previous frame stays for disposal and blending
    if is_progressive_jpeg(image):
        full_w, full_h = declared or image.size
        cost = max(cost, full_w * full_h * PROGRESSIVE_BYTES_PER_PIXEL)
    return cost


@contextmanager
def open_image(
    source: Source | BinaryIO,
    *,
    fit: int | None = None,
    draft_above: int = 0,
    draft_mode: str = "RGB",
    wait: float | None = None,
) -> Iterator[Image.Image]:
    """Open an image for decoding within the limits (see the module docstring).

    `fit`: the caller only needs the picture at least this large on its long
    side, so formats that can decode at a reduced scale do, if their long side
    is at least `draft_above` (0: always). `draft_mode` is
    the mode asked of the JPEG decoder ("L" for luma only). `wait`: seconds to
    wait for a decode slot (None: as long as it takes).

    Raises `ImageRefused` (with the declared size and format) for anything too
    costly; what is not an image of IMAGE_FORMATS raises Pillow's
    `UnidentifiedImageError`, and decoder errors on the way (truncation,
    corruption) come out as Pillow raises them.
    """
    fh: BinaryIO
    if isinstance(source, bytes):
        fh = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        fh = open(source, "rb")  # noqa: SIM115 - closed below
    else:
        fh = source
    try:
        with warnings.catch_warnings():
            # We judge the size ourselves below; Pillow's warning is not a verdict.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                image = Image.open(fh, formats=_formats())
            except Image.DecompressionBombError as exc:
                raise ImageRefused(f"declared size too large: {exc}") from None
            except ValueError as exc:  # e.g. PNG text chunks past MAX_PNG_TEXT_MEMORY
                raise ImageRefused(f"refused while reading the header: {exc}") from None
        with image:
            cost = _check(image, fit, draft_mode, draft_above)
            with decode_slot(cost * WORKING_COPIES, wait):
                yield image
    finally:
        if fh is not source:
            fh.close()


def _check(image: Image.Image, fit: int | None, draft_mode: str, draft_above: int = 0) -> int:
    width, height = image.size
    declared = (width, height)
    if width < 1 or height < 1:
        raise ImageRefused(
            f"{width}x{height} has no pixels", width=width, height=height, image_format=image.format
        )
    if fit is not None and image.format == "JPEG" and max(width, height) >= draft_above:
        scale = min(1.0, fit / max(width, height))
        image.draft(draft_mode, (max(1, round(width * scale)), max(1, round(height * scale))))
    image.declared_size = declared  # type: ignore[attr-defined]
    budget = _limits.max_pixels * BYTES_PER_PIXEL
    cost = decode_cost(image, declared)
    if cost > budget:
        kind = "progressive JPEG" if is_progressive_jpeg(image) else image.format
        raise ImageRefused(
            f"{width}x{height} {kind} would take {cost // (1 << 20)} MiB to"
            f" decode, over the limit of {budget // (1 << 20)} MiB"
            f" ({_limits.max_pixels} pixels)",
            width=width,
            height=height,
            image_format=image.format,
        )
    return cost


def _formats() -> list[str]:
    Image.init()
    return [name for name in IMAGE_FORMATS if name in Image.OPEN]


# Applies to every PNG this process opens; the text is metadata we only summarise.
PngImagePlugin.MAX_TEXT_MEMORY = MAX_PNG_TEXT_MEMORY


__all__ = [
    "DEFAULT_DECODE_MEMORY",
    "DEFAULT_MAX_PIXELS",
    "IMAGE_FORMATS",
    "DecodeBusy",
    "ImageRefused",
    "check_frame",
    "configure",
    "decode_cost",
    "is_progressive_jpeg",
    "decode_memory",
    "declared_size",
    "decode_slot",
    "frame_cost",
    "max_pixels",
    "open_image",
    "peak_reserved",
]
