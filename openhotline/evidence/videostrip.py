"""A video shown as a strip of key frames, blurred like a thumbnail unless revealed.

The video is decoded from memory with PyAV (no file, no sound): a few frames
spread over its length are pasted side by side, each reduced to the reveal
step like an image thumbnail. An analyst sees what kind of video it is
without playing it.
"""

from __future__ import annotations

import io

import av
from PIL import Image

from openhotline.evidence.thumbs import (
    DEFAULT_BLUR,
    RENDER_WAIT,
    RevealStep,
    ThumbnailError,
    ThumbnailRefused,
    apply_step,
    to_jpeg,
)
from openhotline.lib.imagedecode import (
    DecodeBusy,
    ImageRefused,
    check_frame,
    decode_slot,
    frame_cost,
)

FRAMES = 6
CELL = 200
# Frames decoded at most per sampled position (one GOP is usually far fewer).
MAX_DECODE_PER_FRAME = 300


def sample_frames(data: bytes, count: int = FRAMES) -> list[Image.Image]:
    """Decode ``count`` frames evenly spread over the video, in memory.

    1. Open the container from the bytes; take its first video stream only
       (audio is never decoded).
    2. For each target time, seek to the key frame before it and decode
       forward to the first frame at or after the target.
    3. Fall back to the first frames when the container cannot seek.

    Frames are checked against the decode limits of lib/imagedecode.py and
    decoded inside its memory reservation, like images.
    """
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise ThumbnailError("no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            check_frame(width, height)
            with decode_slot(frame_cost(width, height), RENDER_WAIT):
                return _sample(container, stream, count)
    except ImageRefused as exc:
        raise ThumbnailRefused(str(exc), busy=isinstance(exc, DecodeBusy)) from None
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise ThumbnailError(f"not a decodable video: {exc}") from None


def _sample(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, count: int
) -> list[Image.Image]:
    base = stream.time_base
    duration = (container.duration or 0) / 1_000_000
    if base is None or duration <= 0:
        return _first_frames(container, stream, count)
    frames: list[Image.Image] = []
    for index in range(count):
        target = duration * (index + 0.5) / count
        container.seek(int(target / base), stream=stream, backward=True)
        for decoded, frame in enumerate(container.decode(stream)):
            at = float(frame.pts * base) if frame.pts is not None else target
            if at >= target or decoded >= MAX_DECODE_PER_FRAME:
                frames.append(_cell(frame))
                break
    return frames or _first_frames(container, stream, count)


def _first_frames(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, count: int
) -> list[Image.Image]:
    frames: list[Image.Image] = []
    container.seek(0)
    for frame in container.decode(stream):
        frames.append(_cell(frame))
        if len(frames) >= count:
            break
    return frames


def _cell(frame: av.VideoFrame) -> Image.Image:
    # Scaled by FFmpeg straight into the cell, never converted at full size.
    scale = min(1.0, CELL / max(frame.width, frame.height, 1))
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    return frame.reformat(width=width, height=height, format="rgb24").to_image()


def render_strip(
    data: bytes,
    step: RevealStep = RevealStep.BLURRED,
    *,
    blur: str = DEFAULT_BLUR,
    greyscale: bool = True,
    count: int = FRAMES,
) -> bytes:
    """A JPEG of the sampled frames side by side, each reduced to ``step``."""
    frames = sample_frames(data, count)
    if not frames:
        raise ThumbnailError("the video has no frames")
    height = max(frame.height for frame in frames)
    strip = Image.new("RGB", (CELL * len(frames), height), (40, 40, 40))
    for index, frame in enumerate(frames):
        shown = apply_step(frame, step, blur=blur, greyscale=greyscale).convert("RGB")
        strip.paste(shown, (index * CELL + (CELL - frame.width) // 2, (height - frame.height) // 2))
    if step != RevealStep.COLOUR and (step == RevealStep.GREY or greyscale):
        strip = strip.convert("L")
    return to_jpeg(strip)
