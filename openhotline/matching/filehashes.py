"""Hashes of a file given on the command line or uploaded to the API: image or video.

Pillow is tried first; what it cannot open is tried as a video (PyAV); what
neither reads keeps its cryptographic hashes, with the reason. Uploaded bytes
stay in memory (a memfd for the video decoder), never on disk in the clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from openhotline.evidence.tasks import memory_file
from openhotline.lib.pdq import hash_image
from openhotline.lib.vpdq import VideoFrameHash, hash_video
from openhotline.matching.lookup import Query


@dataclass
class FileHashes:
    md5: str
    sha1: str
    sha256: str
    size: int
    kind: str = "other"  # image, video or other
    pdq: str | None = None
    pdq_quality: int | None = None
    dihedral: tuple[str, ...] = ()
    frames: tuple[VideoFrameHash, ...] = field(default_factory=tuple)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form of `openhotline hash --json` and `POST /api/v1/hash`."""
        data: dict[str, Any] = {
            "md5": self.md5,
            "sha1": self.sha1,
            "sha256": self.sha256,
            "size": self.size,
            "kind": self.kind,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
        }
        if self.kind == "video":
            data["vpdq"] = [
                {
                    "frame": f.frame_number,
                    "timestamp": f.timestamp,
                    "pdq": f.pdq,
                    "quality": f.quality,
                }
                for f in self.frames
            ]
        if self.error:
            data["error"] = self.error
        return data

    def query(self) -> Query:
        return Query(
            md5=self.md5,
            sha1=self.sha1,
            sha256=self.sha256,
            pdq=self.dihedral or ((self.pdq,) if self.pdq else ()),
            pdq_quality=self.pdq_quality,
            frames=tuple((f.pdq, f.quality) for f in self.frames),
        )


def hash_file(source: Path | bytes) -> FileHashes:
    """Hash a file (path) or bytes as an image, else as a video. Never raises for content."""
    image = hash_image(source if isinstance(source, bytes) else str(source))
    result = FileHashes(image.md5, image.sha1, image.sha256, image.size)
    if image.format is not None:
        result.kind = "image"
        result.pdq, result.pdq_quality = image.pdq, image.pdq_quality
        result.dihedral, result.error = image.dihedral, image.error
        return result
    fps = settings.OPENHOTLINE_VIDEO_FPS
    max_seconds = settings.OPENHOTLINE_VIDEO_MAX_SECONDS
    if isinstance(source, bytes):
        with memory_file(source) as path:
            video = hash_video(path, fps=fps, max_seconds=max_seconds)
    else:
        video = hash_video(source, fps=fps, max_seconds=max_seconds)
    if video.format is not None and (video.frames or not video.error):
        result.kind = "video"
        result.frames = video.frames
        result.error = video.error
        return result
    result.error = f"not an image or a video openhotline can read ({image.error})"[:500]
    return result
