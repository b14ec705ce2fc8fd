"""Thumbnails rendered on the server, blurred and greyscale unless revealed.

Nothing is written to disk: the evidence is decrypted into memory, reduced
and returned. A browser therefore never receives the sharp picture unless an
analyst asked for it, one item at a time, and that request was audited.
"""

from __future__ import annotations

import io
from enum import StrEnum

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from openhotline.lib.imagedecode import DecodeBusy, ImageRefused, open_image

THUMB_SIZE = 320
# Seconds a preview waits for decode memory held by other renders; past it the
# analyst gets a "busy" placeholder rather than a request that hangs.
RENDER_WAIT = 20.0


class RevealStep(StrEnum):
    BLURRED = "blurred"  # greyscale and blurred: the default
    GREY = "grey"  # sharp, but without colour
    COLOUR = "colour"  # as it is


class ThumbnailError(ValueError):
    """The content is not an image we can render."""


class ThumbnailRefused(ThumbnailError):
    """The image would cost too much to decode (see lib/imagedecode.py); `reason` says why."""

    def __init__(self, reason: str, *, busy: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.busy = busy


# Blur strengths an analyst can choose: (downscale factor, Gaussian radius at THUMB_SIZE).
# Even the lightest leaves no recognisable detail; the strongest leaves shapes only.
BLUR_LEVELS: dict[str, tuple[int, float]] = {
    "light": (6, 8.0),
    "normal": (8, 14.0),
    "strong": (12, 24.0),
}
DEFAULT_BLUR = "normal"


def apply_step(
    image: Image.Image, step: RevealStep, *, blur: str = DEFAULT_BLUR, greyscale: bool = True
) -> Image.Image:
    """Reduce a decoded picture to what the reveal step allows.

    Unless revealed in colour, colour goes (a blurred preview keeps it only
    when the analyst chose so); unless revealed, the picture is blurred so
    hard that no detail survives.
    """
    if step == RevealStep.GREY or (step == RevealStep.BLURRED and greyscale):
        image = image.convert("L")
    if step == RevealStep.BLURRED:
        factor, radius = BLUR_LEVELS.get(blur, BLUR_LEVELS[DEFAULT_BLUR])
        longest = max(image.width, image.height)
        # Downscale first so the blur removes detail at any size.
        small = image.resize((max(1, image.width // factor), max(1, image.height // factor)))
        image = small.resize(image.size, Image.Resampling.BILINEAR)
        image = image.filter(ImageFilter.GaussianBlur(radius * longest / THUMB_SIZE))
    return image


def render_thumbnail(
    data: bytes,
    step: RevealStep = RevealStep.BLURRED,
    *,
    size: int = THUMB_SIZE,
    blur: str = DEFAULT_BLUR,
    greyscale: bool = True,
) -> bytes:
    """Return a JPEG thumbnail of ``data`` at the given reveal step.

    1. Open through `lib.imagedecode`: the size is judged from the header,
       JPEGs decode at a reduced scale, and decode memory is reserved.
    2. Shrink into ``size``×``size`` in the decoded mode, then honour the EXIF
       orientation and convert to RGB on the small picture only.
    3. Apply the reveal step (``apply_step``).

    Raises ``ThumbnailRefused`` for an image too costly to decode and
    ``ThumbnailError`` for anything else that is not a renderable image.
    """
    try:
        with open_image(data, fit=size * 2, wait=RENDER_WAIT) as source:
            source.thumbnail((size, size))
            image: Image.Image = ImageOps.exif_transpose(source).convert("RGB")
    except ImageRefused as exc:
        raise ThumbnailRefused(str(exc), busy=isinstance(exc, DecodeBusy)) from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"not a renderable image: {exc}") from None
    return to_jpeg(apply_step(image, step, blur=blur, greyscale=greyscale))


def to_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def placeholder(text: str = "no preview", size: int = THUMB_SIZE) -> bytes:
    """A grey square saying why there is no picture ("too large to preview", …)."""
    image = Image.new("L", (size, size), 200)
    ImageDraw.Draw(image).text((size // 2, size // 2), text, fill=60, anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=60)
    return out.getvalue()
