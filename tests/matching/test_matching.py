from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.classification import do_classify_item
from openhotline.assessment.models import Classification, ClassificationSource, ItemStatus
from openhotline.evidence.actions import do_store_media
from openhotline.evidence.models import MediaItem
from openhotline.lib.vpdq import hash_video
from openhotline.matching.actions.hash_sets import do_create_set
from openhotline.matching.actions.importing import do_import
from openhotline.matching.lookup import Query, find_matches
from openhotline.matching.models import HashSet, Match, Trust
from openhotline.matching.readers import ReadOptions
from openhotline.matching.tasks import match_media_item
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource
from tests.conftest import TESTDATA
from tests.matching.conftest import encode, picture, store_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def load(django_capture_on_commit_callbacks: Any) -> Any:
    """Import text into a set and index it, as after a real commit."""

    def run(hash_set: HashSet, text: str, format: str = "csv", **options: Any) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            do_import(
                hash_set,
                io.BytesIO(text.encode()),
                file_name="t",
                format=format,
                options=ReadOptions(**options),
            )

    return run


def flip_bits(pdq: str, count: int) -> str:
    value = int(pdq, 16)
    for bit in range(0, 8 * count, 8):
        value ^= 1 << bit
    return f"{value:064x}"


def trusted(name: str, **fields: Any) -> HashSet:
    return do_create_set(name, trust=Trust.TRUSTED, default_verdict="baseline", **fields)


def matches_of(item: MediaItem) -> dict[str, tuple[str, int]]:
    return {
        m.hash_set.name: (m.kind, m.distance)
        for m in Match.objects.filter(media_item=item).select_related("hash_set")
    }


def test_an_item_matches_by_each_exact_hash(hotline_a: Organisation, load: Any) -> None:
    item = store_item(hotline_a, encode(picture(1)))
    for kind in ("md5", "sha1", "sha256"):
        load(do_create_set(f"by {kind}"), f"{kind}\n{getattr(item, kind).upper()}\n")
    load(do_create_set("unrelated"), f"md5\n{'0' * 32}\n")
    match_media_item(item.pk)
    assert matches_of(item) == {
        "by md5": ("md5", 0),
        "by sha1": ("sha1", 0),
        "by sha256": ("sha256", 0),
    }
    upper = find_matches(Query(md5=item.md5.upper()), HashSet.objects.all())
    assert [(f.entry.hash_set.name, f.kind) for f in upper] == [("by md5", "md5")]


def test_pdq_matches_at_each_sets_own_threshold(hotline_a: Organisation, load: Any) -> None:
    item = store_item(hotline_a, encode(picture(2)))
    assert item.pdq_quality is not None and item.pdq_quality >= 50
    near = flip_bits(item.pdq, 10)
    load(do_create_set("default threshold"), f"pdq\n{near}\n")
    load(do_create_set("strict", pdq_threshold=9), f"pdq\n{near}\n")
    load(do_create_set("far", pdq_threshold=31), f"pdq\n{flip_bits(item.pdq, 32)}\n")
    match_media_item(item.pk)
    assert matches_of(item) == {"default threshold": ("pdq", 10)}


def test_a_rotated_and_recompressed_copy_matches_through_its_dihedral_variants(
    hotline_a: Organisation, load: Any
) -> None:
    original = store_item(None, encode(picture(3)))
    load(do_create_set("known"), f"pdq\n{original.pdq}\n")
    turned = picture(3).rotate(90, expand=True).resize((360, 480))
    item = store_item(hotline_a, encode(turned, "JPEG", quality=70))
    match_media_item(item.pk)
    match = Match.objects.get(media_item=item)
    assert match.kind == "pdq" and match.distance <= 31
    assert match.detail["variant"] in {"rotate90", "rotate270"}


def test_low_quality_pdq_hashes_are_not_used(hotline_a: Organisation, load: Any) -> None:
    flat = Image.new("RGB", (300, 300), (128, 128, 128))
    item = store_item(hotline_a, encode(flat))
    assert item.pdq and item.pdq_quality is not None and item.pdq_quality < 50
    load(do_create_set("flat"), f"pdq\n{item.pdq}\n")
    good = store_item(hotline_a, encode(picture(4)))
    load(do_create_set("weak entry"), f"pdq,quality\n{good.pdq},30\n")
    match_media_item(item.pk)
    match_media_item(good.pk)
    assert not Match.objects.exists()


def test_a_video_matches_a_letterboxed_variant_by_frame_overlap(
    hotline_a: Organisation, load: Any, settings: Any
) -> None:
    reference = hash_video(TESTDATA / "vpdq" / "pattern-sd-with-small-logo-bar.mp4", fps=1.0)
    frames = "".join(
        f"{f.frame_number},{f.quality},{f.pdq},{f.timestamp}\n" for f in reference.frames
    )
    load(do_create_set("videos"), frames, "vpdq")
    data = (TESTDATA / "vpdq" / "pattern-sd-grey-bar.mp4").read_bytes()
    item = store_item(hotline_a, data, mime="video/mp4")
    other = store_item(
        hotline_a, (TESTDATA / "vpdq" / "pattern-hd-no-bar.mp4").read_bytes(), mime="video/mp4"
    )
    match_media_item(item.pk)
    match_media_item(other.pk)
    match = Match.objects.get()
    assert match.media_item_id == item.pk and match.kind == "vpdq" and match.distance <= 31
    assert match.detail["query_percent"] >= 80 and match.detail["target_percent"] >= 80


def test_a_trusted_match_pre_classifies_with_the_reason(hotline_a: Organisation, load: Any) -> None:
    item = store_item(hotline_a, encode(picture(5)))
    load(trusted("ICSE baseline"), f"sha256\n{item.sha256}\n")
    match_media_item(item.pk)
    status = ItemStatus.objects.get(hotline=hotline_a, media_item=item)
    assert status.is_in_force() and status.current.verdict == "baseline"
    assert status.current.source == ClassificationSource.HASH_MATCH
    assert status.current.reason == "set ICSE baseline, distance 0 (SHA-256)"
    match_media_item(item.pk)  # idempotent
    assert Classification.objects.count() == 1 and Match.objects.count() == 1


def test_policy_can_require_an_analyst_and_indicative_sets_only_inform(
    hotline_a: Organisation, load: Any
) -> None:
    reviewed = store_item(hotline_a, encode(picture(6)))
    load(trusted("Needs eyes", review_required=True), f"pdq\n{flip_bits(reviewed.pdq, 4)}\n")
    hinted = store_item(hotline_a, encode(picture(7)))
    load(do_create_set("Hints"), f"md5\n{hinted.md5}\n")
    match_media_item(reviewed.pk)
    match_media_item(hinted.pk)
    status = ItemStatus.objects.get(media_item=reviewed)
    assert status.current.verdict == "second_opinion"
    assert status.current.reason == (
        "set Needs eyes, distance 4 (PDQ) suggests baseline; policy: an analyst confirms"
    )
    assert not ItemStatus.objects.filter(media_item=hinted).exists()
    assert Match.objects.filter(media_item=hinted).exists()


def test_categories_mean_what_the_profile_says_and_disagreement_needs_an_analyst(
    hotline_a: Organisation, load: Any
) -> None:
    benign, virtual, disputed = (store_item(hotline_a, encode(picture(s))) for s in (8, 9, 10))
    vic = trusted("VIC US")
    load(
        vic,
        f"md5,category\n{benign.md5},0\n{virtual.md5},3\n{disputed.md5},1\n",
    )
    load(
        do_create_set("Cleared", trust=Trust.TRUSTED, default_verdict="not_illegal"),
        f"sha1\n{disputed.sha1}\n",
    )
    for item in (benign, virtual, disputed):
        match_media_item(item.pk)
    verdicts = {
        s.media_item_id: (s.current.verdict, s.current.is_virtual, s.current.reason)
        for s in ItemStatus.objects.select_related("current")
    }
    assert verdicts[benign.pk][:2] == ("not_illegal", False)
    assert verdicts[virtual.pk][:2] == ("national", True)
    assert verdicts[disputed.pk][0] == "second_opinion"
    assert "sets disagree" in verdicts[disputed.pk][2]


def test_an_analysts_verdict_is_never_overridden(
    hotline_a: Organisation, analyst: User, load: Any
) -> None:
    item = store_item(hotline_a, encode(picture(11)))
    do_classify_item(hotline_a, item, "not_illegal", analyst=analyst)
    load(trusted("Late set"), f"md5\n{item.md5}\n")
    match_media_item(item.pk)
    status = ItemStatus.objects.get(media_item=item)
    assert status.current.source == ClassificationSource.ANALYST
    assert Match.objects.filter(media_item=item).exists()


def test_another_hotlines_set_does_not_classify_our_item(
    hotline_a: Organisation, hotline_b: Organisation, load: Any
) -> None:
    item = store_item(hotline_a, encode(picture(12)))
    load(trusted("B only", owner=hotline_b), f"md5\n{item.md5}\n")
    match_media_item(item.pk)
    assert Match.objects.filter(media_item=item).exists()
    assert not ItemStatus.objects.exists()


def test_an_item_found_later_on_another_hotlines_page_is_classified_there(
    hotline_a: Organisation,
    hotline_b: Organisation,
    load: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    data = encode(picture(13))
    item = store_item(hotline_a, data)
    load(trusted("Shared", owner=None), f"md5\n{item.md5}\n")
    match_media_item(item.pk)
    monkeypatch.setattr(
        "openhotline.matching.tasks.match_media_item.delay", lambda pk: match_media_item(pk)
    )
    page = do_file_report(hotline_b, source=ReportSource.PUBLIC, urls=["http://b.test/"])
    with django_capture_on_commit_callbacks(execute=True):
        do_store_media(data, mime="image/png", reported_url=page.urls.get())
    assert set(ItemStatus.objects.values_list("hotline__slug", flat=True)) == {
        hotline_a.slug,
        hotline_b.slug,
    }


def test_an_item_not_yet_hashed_is_left_for_later(hotline_a: Organisation) -> None:
    item, _ = do_store_media(encode(picture(14)), mime="image/png")
    match_media_item(item.pk)
    match_media_item(987654)
    assert not Match.objects.exists()


def test_hits_in_sets_we_may_not_see_do_not_crowd_out_ours(
    hotline_a: Organisation, hotline_b: Organisation, load: Any, monkeypatch: Any
) -> None:
    from openhotline.matching import lookup
    from openhotline.matching.access import sets_visible_to

    monkeypatch.setattr(lookup, "MAX_HITS", 2)
    pdq = store_item(None, encode(picture(15))).pdq
    close = "".join(f"{flip_bits(pdq, n)}\n" for n in (1, 2, 3))
    load(do_create_set("B's", owner=hotline_b), f"pdq\n{close}")
    load(do_create_set("A's", owner=hotline_a), f"pdq\n{flip_bits(pdq, 9)}\n")
    found = lookup.find_matches(lookup.Query(pdq=(pdq,)), sets_visible_to(hotline_a))
    assert [(f.entry.hash_set.name, f.distance) for f in found] == [("A's", 9)]
