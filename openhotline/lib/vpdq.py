"""vPDQ: video hashes as PDQ hashes of frames, compatible with Meta's vPDQ, and matching.

A video is hashed as the PDQ hashes of frames taken at an interval (1 per second by
default). As in the reference implementation (ThreatExchange `vpdq`): frames are counted
in decoding order, frame k is hashed when k % int(frame_rate / fps) == 0, at full size
in RGB24, and its timestamp is k / frame_rate. Hashes are therefore interchangeable with
those of the `vpdq` tools and of hash sets made with them.

Two videos match when enough of the frames of each (quality >= 50, duplicates dropped)
lie within PDQ distance 31 of some frame of the other (`match_vpdq`). That finds
re-encodings and clips of each other, in either direction.

Decoding is done by PyAV (which ships its own FFmpeg). Reported files are hostile:
- the input is handed to FFmpeg as an open file, and FFmpeg may open nothing else (a
  playlist could otherwise make it read local files or URLs);
- only common video containers are demuxed;
- frames over the decode limits of `lib.imagedecode` are refused, and hashing stops
  after `max_seconds` of video or `max_frames` hashed frames (`truncated` is then set);
- errors are recorded in `error` with whatever was hashed before, never raised.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any

import av
import numpy as np

from openhotline.lib.imagedecode import check_frame, decode_slot, frame_cost
from openhotline.lib.pdq import crypto_hashes, pdq_of_array

DEFAULT_FPS = 1.0
MAX_SECONDS = 4 * 3600.0
MAX_FRAMES = 4 * 3600
QUALITY_THRESHOLD = 50
DISTANCE_THRESHOLD = 31
MATCH_PERCENT = 80.0
CONTAINERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,asf,ogg,h264,hevc,mjpeg"
FFMPEG_OPTIONS = {
    "format_whitelist": CONTAINERS,
    "protocol_whitelist": "none",  # nothing may be opened from inside the file
}


@dataclass(frozen=True)
class VideoFrameHash:
    """PDQ hash of one video frame (frame number counted in decoding order)."""

    frame_number: int
    timestamp: float
    pdq: str
    quality: int


@dataclass
class VideoHashes:
    """Everything `hash_video` learns about a video file."""

    md5: str
    sha1: str
    sha256: str
    size: int
    format: str | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    frame_rate: float | None = None
    frames: tuple[VideoFrameHash, ...] = ()
    truncated: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def hash_video(
    path: str | os.PathLike[str],
    *,
    fps: float | None = DEFAULT_FPS,
    max_seconds: float = MAX_SECONDS,
    max_frames: int = MAX_FRAMES,
) -> VideoHashes:
    """vPDQ-hash the video at `path`; `fps=None` hashes every frame.

    1. Cryptographic hashes of the file, streamed.
    2. Open the first video stream; record container, codec, size, duration, rate.
    3. Decode every frame (inter-coded video cannot skip), convert the sampled ones to
       RGB24 and PDQ-hash them, until the end or a limit.
    """
    crypto = crypto_hashes(path)
    result = VideoHashes(crypto.md5, crypto.sha1, crypto.sha256, crypto.size)
    frames: list[VideoFrameHash] = []
    try:
        with (
            open(path, "rb") as fh,
            av.open(fh, mode="r", options=FFMPEG_OPTIONS) as container,
            ExitStack() as slot,
        ):
            if not container.streams.video:
                raise ValueError("no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            _describe(container, stream, result)
            # Frames are decoded within the process's image decode memory (lib/imagedecode).
            slot.enter_context(decode_slot(frame_cost(result.width or 1, result.height or 1)))
            rate = result.frame_rate or 0.0
            step = max(1, int(rate / fps)) if fps and rate else 1
            for number, frame in enumerate(container.decode(stream)):
                timestamp = number / rate if rate else float(frame.time or 0.0)
                if timestamp > max_seconds or len(frames) >= max_frames:
                    result.truncated = True
                    break
                if number % step:
                    continue
                check_frame(frame.width, frame.height)
                pdq, quality = pdq_of_array(frame.to_ndarray(format="rgb24"))
                frames.append(VideoFrameHash(number, round(timestamp, 3), pdq, quality))
    except Exception as exc:  # any decoder failure is a property of the file
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    result.frames = tuple(frames)
    return result


def _describe(container: Any, stream: Any, result: VideoHashes) -> None:
    result.format = container.format.name
    result.codec = stream.codec_context.name
    result.width, result.height = stream.codec_context.width, stream.codec_context.height
    check_frame(result.width or 0, result.height or 0)
    rate = stream.average_rate or stream.guessed_rate
    result.frame_rate = float(rate) if rate else None
    if stream.duration is not None and stream.time_base is not None:
        result.duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        result.duration = container.duration / av.time_base


@dataclass(frozen=True)
class VpdqMatch:
    """Percentages of each video's usable frames found in the other."""

    query_percent: float
    target_percent: float

    def is_match(self, threshold: float = MATCH_PERCENT) -> bool:
        """Both videos mostly consist of each other (the vPDQ default: 80% both ways)."""
        return self.query_percent >= threshold and self.target_percent >= threshold


def match_vpdq(
    query: list[VideoFrameHash] | tuple[VideoFrameHash, ...],
    target: list[VideoFrameHash] | tuple[VideoFrameHash, ...],
    *,
    quality_threshold: int = QUALITY_THRESHOLD,
    distance_threshold: int = DISTANCE_THRESHOLD,
) -> VpdqMatch:
    """vPDQ frame-set overlap, as the reference brute-force matcher computes it.

    1. Per video, keep frames of quality >= `quality_threshold`, each hash once.
    2. Count the frames of each within `distance_threshold` of any frame of the other.
    3. Return both counts as percentages (0 for a video with no usable frame).
    """
    q = _usable(query, quality_threshold)
    t = _usable(target, quality_threshold)
    if not len(q) or not len(t):
        return VpdqMatch(0.0, 0.0)
    close = _distances(q, t) <= distance_threshold
    return VpdqMatch(
        100.0 * float(close.any(axis=1).mean()), 100.0 * float(close.any(axis=0).mean())
    )


def _usable(frames: list[VideoFrameHash] | tuple[VideoFrameHash, ...], quality: int) -> np.ndarray:
    seen = dict.fromkeys(f.pdq for f in frames if f.quality >= quality)
    raw = b"".join(bytes.fromhex(h) for h in seen)
    return np.frombuffer(raw, dtype=np.uint64).reshape(-1, 4)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All pairwise Hamming distances, (len(a), len(b)), in blocks to bound memory."""
    out = np.empty((len(a), len(b)), dtype=np.uint16)
    block = max(1, (1 << 22) // max(1, len(b)))
    for lo in range(0, len(a), block):
        x = a[lo : lo + block, None, :] ^ b[None, :, :]
        out[lo : lo + block] = np.bitwise_count(x).sum(axis=2, dtype=np.uint16)
    return out
