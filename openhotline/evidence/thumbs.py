"""Thumbnails rendered on the server, blurred and greyscale unless revealed.

Nothing is written to disk: the evidence is decrypted into memory, reduced
and returned. A browser therefore never receives the sharp picture unless an
analyst asked for it, one item at a time, and that request was audited.
"""

from __future__ import annotations

import io
from enum import StrEnum

from PIL import Image, ImageFilter, ImageOps

THUMB_SIZE = 320


class RevealStep(StrEnum):
    BLURRED = "blurred"  # greyscale and blurred: the default
    GREY = "grey"  # sharp, but without colour
    COLOUR = "colour"  # as it is


class ThumbnailError(ValueError):
    """The content is not an image we can render."""


def render_thumbnail(
    data: bytes,
    step: RevealStep = RevealStep.BLURRED,
    *,
    size: int = THUMB_SIZE,
    blur_radius: float = 14.0,
) -> bytes:
    """Return a JPEG thumbnail of ``data`` at the given reveal step.

    1. Decode at reduced size where the format allows (JPEG draft mode), so a
       12-megapixel photo costs little.
    2. Fit into ``size``×``size``, honouring the EXIF orientation.
    3. Unless revealed in colour, drop colour; unless revealed, blur so hard
       that no detail survives.
    """
    try:
        with Image.open(io.BytesIO(data)) as source:
            source.draft("RGB", (size * 2, size * 2))
            image: Image.Image = ImageOps.exif_transpose(source).convert("RGB")
            image.thumbnail((size, size))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"not a renderable image: {exc}") from None
    if step != RevealStep.COLOUR:
        image = image.convert("L")
    if step == RevealStep.BLURRED:
        # Downscale first so the blur removes detail at any thumbnail size.
        small = image.resize((max(1, image.width // 8), max(1, image.height // 8)))
        image = small.resize(image.size, Image.Resampling.BILINEAR)
        image = image.filter(ImageFilter.GaussianBlur(blur_radius * size / THUMB_SIZE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def placeholder(text: str = "no preview", size: int = THUMB_SIZE) -> bytes:
    image = Image.new("L", (size, size), 200)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=60)
    return out.getvalue()
