"""Response bodies: bounded decompression and content type from magic bytes.

A hostile server can send a few kilobytes of gzip or brotli that inflate to
gigabytes, and can label anything with any Content-Type. So bodies are decoded
incrementally with a hard output limit, and the type we record is the one the
bytes themselves declare.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterator

import brotli

_STEP = 64 * 1024


# The ratio guard starts once this much was decoded: small bodies may compress
# however well they like.
RATIO_FLOOR = 1024 * 1024


class DecodeLimitExceeded(Exception):
    """The decoded body grew past the configured limit; `partial` is what fit."""

    def __init__(self, partial: bytes, message: str = "") -> None:
        super().__init__(message or f"decoded body past the limit after {len(partial)} bytes")
        self.partial = partial


class DecodeRatioExceeded(DecodeLimitExceeded):
    """The body inflates more than `max_ratio` times what arrived: a decompression bomb."""


class _ZlibStage:
    """gzip (possibly multi-member) or deflate, with or without the zlib header."""

    def __init__(self, kind: str) -> None:
        self._gzip = kind == "gzip"
        self._raw_fallback = not self._gzip  # servers send raw deflate as "deflate"
        self._started = False
        self._d = self._new()

    def _new(self) -> zlib._Decompress:
        return zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data and self._raw_fallback:
            self._started = True
            try:
                zlib.decompressobj(zlib.MAX_WBITS).decompress(data[:64], 1)
            except zlib.error:
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        while data:
            out = self._d.decompress(data, _STEP)
            data = self._d.unconsumed_tail
            if self._d.eof:
                rest = self._d.unused_data
                data = b""
                if self._gzip and rest.startswith(b"\x1f\x8b"):
                    self._d = self._new()
                    data = rest
            if out:
                yield out

    def flush(self) -> Iterator[bytes]:
        tail = self._d.flush(_STEP)
        if tail:
            yield tail


class _BrotliStage:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self._d.process(data, output_buffer_limit=_STEP)
        if out:
            yield out
        while not self._d.can_accept_more_data():
            out = self._d.process(b"", output_buffer_limit=_STEP)
            if not out:
                break
            yield out

    def flush(self) -> Iterator[bytes]:
        return iter(())


_Stage = _ZlibStage | _BrotliStage


class BodyDecoder:
    """Undo Content-Encoding chunk by chunk, refusing to produce more than `limit` bytes.

    Unknown encodings are left as they are (`self.unknown` names them), since
    the raw bytes are still evidence.
    """

    def __init__(self, content_encoding: str | None, limit: int, max_ratio: int = 0) -> None:
        self.limit = limit
        # Decoded bytes per received byte allowed past RATIO_FLOOR (0: no ratio guard).
        # gzip of zeros reaches ~1000:1; images and text on the web stay far under 100:1.
        self.max_ratio = max_ratio
        self.consumed = 0
        self.produced = 0
        self.unknown: list[str] = []
        stages: list[_Stage] = []
        names = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
        for name in names:
            if name in ("gzip", "x-gzip"):
                stages.append(_ZlibStage("gzip"))
            elif name == "deflate":
                stages.append(_ZlibStage("deflate"))
            elif name == "br":
                stages.append(_BrotliStage())
            elif name != "identity":
                self.unknown.append(name)
        # Encodings are listed in the order applied, so undo them last first.
        self._stages = [] if self.unknown else list(reversed(stages))

    def feed(self, data: bytes) -> bytes:
        """Decode one received chunk; raise DecodeLimitExceeded past the limit.

        Errors in the compressed stream raise zlib.error or brotli.error.
        """
        self.consumed += len(data)
        pieces: Iterator[bytes] = iter((data,))
        for stage in self._stages:
            pieces = _through(stage, pieces)
        return self._take(pieces)

    def finish(self) -> bytes:
        """Flush what the decompressors still hold at the end of the body."""
        pieces: Iterator[bytes] = iter(())
        for stage in self._stages:
            pieces = itertools.chain(_through(stage, pieces), stage.flush())
        return self._take(pieces)

    def _take(self, pieces: Iterator[bytes]) -> bytes:
        # The stages are lazy generators, each step bounded to 64 KiB of output,
        # so stopping here stops every decompressor behind it too (a gzip
        # inside brotli included). Past the limit, the part that fits travels
        # on in the exception.
        out: list[bytes] = []
        for piece in pieces:
            if self.produced + len(piece) > self.limit:
                out.append(piece[: self.limit - self.produced])
                self.produced = self.limit
                raise DecodeLimitExceeded(b"".join(out))
            self.produced += len(piece)
            out.append(piece)
            if (
                self.max_ratio
                and self.produced > RATIO_FLOOR
                and self.produced > self.max_ratio * max(1, self.consumed)
            ):
                raise DecodeRatioExceeded(
                    b"".join(out),
                    f"{self.produced} bytes decoded from {self.consumed} received, more than"
                    f" {self.max_ratio}:1",
                )
        return b"".join(out)


def _through(stage: _Stage, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from stage.feed(piece)


def _iso_bmff_mime(data: bytes) -> str | None:
    if data[4:8] != b"ftyp":
        return None
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(len(data), 64), 4)}
    if brands & {b"avif", b"avis"}:
        return "image/avif"
    if brands & {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"}:
        return "image/heic"
    if data[8:12] == b"qt  ":
        return "video/quicktime"
    if data[8:11] == b"3gp":
        return "video/3gpp"
    if data[8:12] in (b"M4A ", b"M4B "):
        return "audio/mp4"
    return "video/mp4"


_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xff\x0a", "image/jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "image/jxl"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
    (b"FLV\x01", "video/x-flv"),
    (b"OggS", "application/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"\x00\x00\x01\xba", "video/mpeg"),
    (b"\x00\x00\x01\xb3", "video/mpeg"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x1f\x8b", "application/gzip"),
)
_RIFF = {b"WEBP": "image/webp", b"AVI ": "video/x-msvideo", b"WAVE": "audio/wav"}
_HTML_MARKERS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<title",
    b"<script",
    b"<iframe",
    b"<meta",
    b"<link",
    b"<style",
    b"<div",
    b"<table",
    b"<img",
    b"<a ",
    b"<p>",
    b"<br",
    b"<h1",
)


def sniff_mime(data: bytes) -> str:
    """Content type of `data` from its leading bytes (never from a header).

    Covers the image, video and audio formats browsers display, plus HTML,
    SVG and a few containers, so an "image" that is really a page (or a
    zip) is recorded as what it is.
    """
    head = data[:512]
    for prefix, mime in _PREFIXES:
        if head.startswith(prefix):
            return mime
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    bmff = _iso_bmff_mime(head)
    if bmff:
        return bmff
    if len(head) >= 1 and head[0] == 0x47 and len(data) > 188 and data[188] == 0x47:
        return "video/mp2t"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "audio/mpeg"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        return "image/svg+xml"
    if text.startswith(_HTML_MARKERS) or (text.startswith(b"<!--") and b"<html" in head.lower()):
        return "text/html"
    if text.startswith(b"<?xml"):
        return "application/xml"
    if text[:1] in (b"{", b"["):
        return "application/json"
    if head and not any(b < 9 or 13 < b < 32 for b in head if b != 27):
        return "text/plain"
    return "application/octet-stream"


def is_media_mime(mime: str) -> bool:
    """True for the types the crawler keeps as media evidence."""
    return mime.startswith(("image/", "video/", "audio/")) or mime == "application/ogg"
