from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import pytest

from openhotline.lib import imagedecode
from openhotline.lib.pdq import pdq_distance
from openhotline.lib.vpdq import VideoFrameHash, VideoHashes, hash_video, match_vpdq

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "vpdq"
SD_GREY = "pattern-sd-grey-bar"
SD_LOGO = "pattern-sd-with-small-logo-bar"
HD = "pattern-hd-no-bar"
DOORKNOB = "doorknob-hd-no-bar"
PADDED = "test-padded-dimensions"


@cache
def hashed(name: str) -> VideoHashes:
    """Default settings (1 frame per second); cached because decoding takes a while."""
    return hash_video(TESTDATA / f"{name}.mp4")


def reference(name: str) -> list[VideoFrameHash]:
    frames = []
    for line in (TESTDATA / f"{name}.txt").read_text().split():
        number, quality, pdq, timestamp = line.split(",")
        frames.append(VideoFrameHash(int(number), float(timestamp), pdq, int(quality)))
    return frames


@pytest.mark.parametrize("name", [SD_GREY, PADDED])
def test_frames_hash_within_10_of_the_reference_at_quality_80(name: str) -> None:
    ours = hash_video(TESTDATA / f"{name}.mp4", fps=10)
    theirs = {f.frame_number: f for f in reference(name)}

    assert ours.error is None
    assert [f.frame_number for f in ours.frames] == list(range(0, len(theirs), 3))
    for frame in ours.frames:
        ref = theirs[frame.frame_number]
        assert frame.timestamp == pytest.approx(ref.timestamp, abs=0.001)
        if ref.quality >= 80:
            assert pdq_distance(frame.pdq, ref.pdq) <= 10, frame.frame_number


def test_default_sampling_is_one_frame_per_second() -> None:
    result = hashed(SD_GREY)

    assert [f.frame_number for f in result.frames] == [0, 30, 60, 90, 120, 150, 180]
    assert [f.timestamp for f in result.frames] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert not result.truncated


def test_it_reports_container_codec_size_duration_and_rate() -> None:
    result = hashed(HD)
    data = (TESTDATA / f"{HD}.mp4").read_bytes()

    assert result.codec == "h264"
    assert "mp4" in (result.format or "")
    assert (result.width, result.height) == (720, 1280)
    assert result.frame_rate == 30.0
    assert result.duration == pytest.approx(206 / 30, abs=0.01)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size == len(data)


def test_the_two_sd_variants_match_each_other_both_ways() -> None:
    match = match_vpdq(hashed(SD_GREY).frames, hashed(SD_LOGO).frames)

    assert match.query_percent >= 80 and match.target_percent >= 80
    assert match.is_match()


@pytest.mark.parametrize("other", [SD_GREY, SD_LOGO])
def test_the_hd_clip_without_bars_matches_neither_sd_variant(other: str) -> None:
    assert not match_vpdq(hashed(HD).frames, hashed(other).frames).is_match()
    assert not match_vpdq(hashed(other).frames, hashed(HD).frames).is_match()


@pytest.mark.parametrize("other", [SD_GREY, SD_LOGO, HD])
def test_the_doorknob_matches_nothing(other: str) -> None:
    match = match_vpdq(hashed(DOORKNOB).frames, hashed(other).frames)

    assert match.query_percent == 0 and match.target_percent == 0


def test_the_reference_hashes_give_the_readmes_verdicts() -> None:
    grey, logo, hd, knob = (reference(n) for n in (SD_GREY, SD_LOGO, HD, DOORKNOB))

    # (Frame 158 of each is 34 bits from every frame of the other: 99.5%, not 100%.)
    assert match_vpdq(grey, logo).query_percent >= 99
    assert match_vpdq(logo, grey).is_match()
    assert not any(match_vpdq(hd, v).is_match() for v in (grey, logo, knob))
    assert not any(match_vpdq(knob, v).is_match() for v in (grey, logo))


def test_the_odd_sized_video_is_hashed() -> None:
    result = hashed(PADDED)

    assert result.error is None
    assert len(result.frames) == 5
    assert all(f.quality == 100 for f in result.frames)


def test_limits_stop_hashing_and_say_so() -> None:
    by_frames = hash_video(TESTDATA / f"{SD_GREY}.mp4", fps=None, max_frames=10)
    by_time = hash_video(TESTDATA / f"{SD_GREY}.mp4", max_seconds=2.5)

    assert [f.frame_number for f in by_frames.frames] == list(range(10))
    assert by_frames.truncated and by_frames.error is None
    assert [f.timestamp for f in by_time.frames] == [0.0, 1.0, 2.0]
    assert by_time.truncated


def test_frames_over_the_pixel_limit_are_refused() -> None:
    before = (imagedecode.max_pixels(), imagedecode.decode_memory())
    imagedecode.configure(max_pixels=100_000, memory=before[1])
    try:
        result = hash_video(TESTDATA / f"{SD_GREY}.mp4")
    finally:
        imagedecode.configure(max_pixels=before[0], memory=before[1])

    assert result.error is not None and "ImageRefused" in result.error
    assert result.frames == ()


def test_garbage_is_recorded_with_its_crypto_hashes(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)

    result = hash_video(path)

    assert result.error is not None
    assert result.frames == ()
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_truncated_video_keeps_the_frames_decoded_before_the_cut(tmp_path: Path) -> None:
    data = (TESTDATA / f"{SD_GREY}.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])

    result = hash_video(path)

    assert result.error is not None
    assert 0 < len(result.frames) < len(hashed(SD_GREY).frames)
    assert result.frames == hashed(SD_GREY).frames[: len(result.frames)]


def test_a_playlist_cannot_make_ffmpeg_read_another_file(tmp_path: Path) -> None:
    # Without the protocol and container whitelists FFmpeg follows this HLS playlist and
    # hashes the local video it names.
    playlist = tmp_path / "innocent.mp4"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n"
        f"file://{TESTDATA / (SD_GREY + '.mp4')}\n#EXT-X-ENDLIST\n"
    )

    result = hash_video(playlist)

    assert result.error is not None
    assert result.frames == ()


def test_matching_ignores_low_quality_and_repeated_frames() -> None:
    a, b = "0" * 64, "f" * 64
    near_a = "1" + "0" * 63  # one bit away
    query = [VideoFrameHash(i, float(i), a, 100) for i in range(5)] + [
        VideoFrameHash(5, 5.0, b, 10)
    ]
    target = [VideoFrameHash(0, 0.0, near_a, 90), VideoFrameHash(1, 1.0, b, 40)]

    match = match_vpdq(query, target)

    assert (match.query_percent, match.target_percent) == (100.0, 100.0)
    assert match_vpdq(query, [VideoFrameHash(0, 0.0, b, 100)]).query_percent == 0.0
    assert match_vpdq(query, []).is_match() is False
