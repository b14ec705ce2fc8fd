"""What every media preview view sends: a thumbnail, a video strip, or a placeholder saying why not.

The views of the workspace, the police portal and the crawl screenshot all
call `render_preview`, so a hostile image gets the same answer everywhere:
never a 500, a placeholder that tells the analyst why ("too large to
preview"), and a log line naming the item and the reason.

`blurred_preview` keeps blurred previews in Django's cache for
``OPENHOTLINE_THUMBNAIL_CACHE_SECONDS``, so a queue page full of thumbnails
does not fetch and decode every item again (from S3, a whole download each).
Only the blurred step is ever cached: a sharper picture is rendered for the
one audited request that asked for it and then forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

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
    return _render(data, step, label=label, video=video, blur=blur, greyscale=greyscale)[0]


def blurred_preview(
    load: Callable[[], bytes],
    *,
    blob_name: str,
    label: str,
    video: bool = False,
    blur: str = DEFAULT_BLUR,
    greyscale: bool = True,
) -> bytes:
    """The blurred preview of a stored blob, from the cache when it is there.

    ``load`` reads the blob; it is not called on a cache hit. A "busy"
    placeholder is not cached (the next request may render it).
    """
    seconds = settings.OPENHOTLINE_THUMBNAIL_CACHE_SECONDS
    key = f"evidence:blurred:{blob_name}:{blur}:{'grey' if greyscale else 'colour'}"
    if seconds:
        cached = cache.get(key)
        if isinstance(cached, bytes):
            return cached
    body, lasting = _render(
        load(), RevealStep.BLURRED, label=label, video=video, blur=blur, greyscale=greyscale
    )
    if seconds and lasting:
        cache.set(key, body, seconds)
    return body


def _render(
    data: bytes,
    step: RevealStep,
    *,
    label: str,
    video: bool,
    blur: str,
    greyscale: bool,
) -> tuple[bytes, bool]:
    """The preview, and whether the same answer holds next time (not "busy")."""
    try:
        if video:
            return render_strip(data, step, blur=blur, greyscale=greyscale), True
        return render_thumbnail(data, step, blur=blur, greyscale=greyscale), True
    except ThumbnailRefused as exc:
        if exc.busy:
            logger.warning("preview of %s postponed: %s", label, exc.reason)
            return placeholder("busy, reload later"), False
        logger.warning("preview of %s refused: %s", label, exc.reason)
        return placeholder("too large to preview"), True
    except ThumbnailError as exc:
        logger.info("no preview of %s: %s", label, exc)
        return placeholder(), True
