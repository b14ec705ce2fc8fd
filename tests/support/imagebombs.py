"""Hostile images made at run time: tiny files that declare or inflate to huge pictures.

Each is built without ever holding the decoded picture in memory (PNG rows are
compressed as they are generated; the JPEG is a small real one whose header
claims a huge size), so making them costs the test process nothing.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bomb(width: int, height: int, *, colour_type: int = 2, extra: bytes = b"") -> bytes:
    """A valid PNG of `width`×`height` black pixels (RGB by default), zlib-compressed.

    Zeros compress about 1000:1, so 12000×12000 RGB (432 MB decoded) is ~420 KB.
    `extra` chunks go before the image data.
    """
    channels = {0: 1, 2: 3, 6: 4}[colour_type]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + width * channels)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    idat = b"".join(parts)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + extra
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def png_text_bomb(chunks: int = 60, each: int = 1000 * 1000) -> bytes:
    """A 64×64 PNG carrying `chunks` zTXt chunks that each inflate to `each` bytes.

    Pillow keeps up to 64 MB of such text by default (MAX_TEXT_MEMORY).
    """
    text = zlib.compress(b"A" * each, 9)
    extra = b"".join(_chunk(b"zTXt", b"note%d\x00\x00" % n + text) for n in range(chunks))
    return png_bomb(64, 64, extra=extra)


def jpeg_claiming(width: int, height: int, *, progressive: bool = True) -> bytes:
    """A small real JPEG whose frame header claims `width`×`height`.

    A progressive JPEG makes libjpeg buffer every DCT coefficient of the declared
    size before it can output a single line, whatever the reduced scale.
    """
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 150)).save(
        out, "JPEG", quality=80, progressive=progressive
    )
    data = bytearray(out.getvalue())
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at != -1:
            # SOFn: length(2) precision(1) height(2) width(2)
            struct.pack_into(">HH", data, at + 5, height, width)
            return bytes(data)
    raise AssertionError("no SOF marker in the generated JPEG")


def animated_gif(width: int, height: int, frames: int = 2) -> bytes:
    """An animated GIF of flat frames: ~50 KB, and each frame is `width`×`height` decoded."""
    pictures = [Image.new("P", (width, height), n) for n in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:], duration=100)
    return out.getvalue()


BOMB_SHAPES: dict[str, Callable[[], bytes]] = {
    # The probe's case: 144 Mpx, between Pillow's warning and its own refusal.
    "png-12000x12000": lambda: png_bomb(12000, 12000),
    # A zlib bomb under Pillow's own limit (64 Mpx, 192 MB decoded), so Pillow never warns.
    "png-zlib-8000x8000": lambda: png_bomb(8000, 8000),
    # Decompressed text chunks (zTXt), 60 MB of them in a 64×64 picture.
    "png-ztxt-60mb": png_text_bomb,
    # A progressive JPEG claiming 12000×12000 (about 0.9 GB of coefficients).
    "jpeg-progressive-12000x12000": lambda: jpeg_claiming(12000, 12000),
    # A baseline JPEG claiming 176 Mpx (just under Pillow's own refusal): decoded reduced.
    "jpeg-baseline-16000x11000": lambda: jpeg_claiming(16000, 11000, progressive=False),
    # Animation: every later frame is drawn onto a full-size RGBA canvas.
    "gif-animated-5000x5000": lambda: animated_gif(5000, 5000),
}


def write_bombs(directory: Path) -> dict[str, Path]:
    """Write every shape of BOMB_SHAPES into `directory`; returns name -> path."""
    paths = {}
    for name, make in BOMB_SHAPES.items():
        path = directory / f"{name}.bin"
        path.write_bytes(make())
        paths[name] = path
    return paths
