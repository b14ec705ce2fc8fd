"""What every media preview view sends: a thumbnail, a video strip, or a placeholder saying why not.

The views of the workspace, the police portal and the crawl screenshot all
call `render_preview`, so a hostile image gets the same answer everywhere:
never a 500, a placeholder that tells the analyst why ("too large to
preview"), and a log line naming the item and the reason.
"""

from __future__ import annotations

import logging

from openhotline.evidence.thumbs import (
    DEFAULT_BLUR,
    RevealStep,
    ThumbnailError,
    ThumbnailRefused,
    placeholder,
    render_thumbnail,
)
from openhotline.evidence.videostrip import render_strip

logger = logging.getLogger(__name__)


def render_preview(
    data: bytes,
    step: RevealStep,
    *,
    label: str,
    video: bool = False,
    blur: str = DEFAULT_BLUR,
    greyscale: bool = True,
) -> bytes:
    """A JPEG preview of ``data``; never raises for the content. ``label`` names it in logs."""
    try:
        if video:
            return render_strip(data, step, blur=blur, greyscale=greyscale)
        return render_thumbnail(data, step, blur=blur, greyscale=greyscale)
    except ThumbnailRefused as exc:
        if exc.busy:
            logger.warning("preview of %s postponed: %s", label, exc.reason)
            return placeholder("busy, reload later")
        logger.warning("preview of %s refused: %s", label, exc.reason)
        return placeholder("too large to preview")
    except ThumbnailError as exc:
        logger.info("no preview of %s: %s", label, exc)
        return placeholder()
