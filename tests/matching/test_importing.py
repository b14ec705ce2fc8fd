from __future__ import annotations

import io
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from openhotline.accounts.models import Organisation
from openhotline.matching.actions.hash_sets import do_create_set
from openhotline.matching.actions.importing import ImportFailed, do_import
from openhotline.matching.exporting import export_set
from openhotline.matching.models import HashEntry, HashSet, ImportState, IndexChange
from openhotline.matching.readers import ReadOptions, detect_format
from tests.conftest import TESTDATA
from tests.matching.conftest import VICS1_CONTEXT, VICS2_CONTEXT, vics_media_file

pytestmark = pytest.mark.django_db


def hexes(n: int) -> str:
    return secrets.token_hex(n)


def load(hash_set: HashSet, data: bytes | str, format: str, **kwargs: Any) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    return do_import(hash_set, io.BytesIO(raw), file_name=f"f.{format}", format=format, **kwargs)


def entries_of(hash_set: HashSet) -> list[tuple[Any, ...]]:
    return sorted(
        hash_set.entries.values_list("md5", "sha1", "sha256", "pdq", "category", "pdq_quality")
    )


def test_a_vics_file_round_trips_with_its_metadata(tmp_path: Path) -> None:
    records = [
        {
            "MediaID": n,
            "Category": n % 4,
            "MD5": hexes(16).upper(),
            "SHA1": hexes(20).upper(),
            "MediaSize": 1000 + n,
            "Series": f"series {n}",
            "IsDistributed": True,
            "DateUpdated": "2024-05-01T10:00:00Z",
            "AlternativeHashes": [
                {"HashName": "PDQ", "HashValue": hexes(32)},
                {"HashName": "SHA256", "HashValue": hexes(32)},
            ],
            "MediaFiles": [{"FileName": "a.jpg", "FilePath": f"http://host.test/{n}.jpg"}],
        }
        for n in range(1, 41)
    ]
    first = do_create_set("Project VIC sample")
    report = do_import(
        first,
        vics_media_file(tmp_path / "in.json", records).open("rb"),
        file_name="in.json",
        format="vics",
    )
    assert (report.state, report.added, report.rejected) == (ImportState.DONE, 40, 0)
    entry = first.entries.get(metadata__media_id=7)
    assert entry.md5 == str(records[6]["MD5"]).lower() and entry.category == 3
    assert entry.metadata["series"] == "series 7" and entry.metadata["is_distributed"] is True
    assert entry.metadata["file_paths"] == ["http://host.test/7.jpg"]

    out = io.StringIO()
    assert export_set(first, out, "vics").written == 40
    second = do_create_set("Copy")
    load(second, out.getvalue(), "vics")
    assert entries_of(second) == entries_of(first)
    copy = second.entries.get(metadata__media_id=7)
    assert copy.metadata == entry.metadata


def test_a_csv_and_a_plain_list_round_trip() -> None:
    rows = [
        (hexes(16), hexes(20), hexes(32), hexes(32), n % 3, 60 + n, f"note {n}") for n in range(25)
    ]
    csv_text = "md5;sha1;sha256;pdq;category;quality;comment\n" + "".join(
        ";".join(str(v) for v in row) + "\n" for row in rows
    )
    first = do_create_set("CSV set")
    assert load(first, csv_text, "csv").added == 25
    out = io.StringIO()
    export_set(first, out, "csv")
    second = do_create_set("CSV copy")
    load(second, out.getvalue(), "csv")
    assert entries_of(second) == entries_of(first)
    assert second.entries.filter(metadata__comment="note 3").count() == 1

    listing = io.StringIO()
    assert export_set(first, listing, "list", kind="sha1").written == 25
    third = do_create_set("SHA-1 list")
    load(third, listing.getvalue(), "list")
    assert sorted(third.entries.values_list("sha1", flat=True)) == sorted(r[1] for r in rows)


def test_a_vics_1x_cases_file_with_quirks_is_read_liberally() -> None:
    md5 = hexes(16)
    text = json.dumps(
        {
            "odata.metadata": VICS1_CONTEXT,
            "value": [
                {
                    "CaseID": "a3c1",
                    "Media": [
                        {
                            "MediaID": "12",
                            "Category": "1",
                            "MD5": md5.upper(),
                            "IsDistributed": "true",
                        },
                        {"MediaID": 13, "Category": "two", "MD5": hexes(16)},
                        {"MediaID": 14, "PhotoDNA": "AAAA"},
                    ],
                    "TotalMediaFiles": "3",
                }
            ],
        }
    )
    hash_set = do_create_set("Old VICS")
    report = load(hash_set, "\ufeff" + text, "vics")
    assert (report.added, report.rejected) == (1, 2)
    entry = hash_set.entries.get()
    assert (entry.md5, entry.category, entry.metadata["media_id"]) == (md5, 1, 12)
    assert entry.metadata["case_id"] == "a3c1"
    reasons = dict(report.rejections.values_list("line", "reason"))
    assert "Category" in reasons[2] and "PhotoDNA" in reasons[3]


def test_refused_lines_are_kept_with_their_numbers() -> None:
    good = hexes(16)
    text = f"# a list\n{good}\nnot-a-hash\n\n{hexes(10)}\n{hexes(20)}\n"
    hash_set = do_create_set("List")
    report = load(hash_set, text, "list")
    assert (report.added, report.rejected, report.records) == (2, 2, 4)
    assert list(report.rejections.values_list("line", flat=True)) == [3, 5]


def test_importing_the_same_file_twice_adds_nothing_the_second_time() -> None:
    text = "".join(hexes(16) + "\n" for _ in range(30))
    hash_set = do_create_set("Twice")
    load(hash_set, text + text.splitlines()[0] + "\n", "list")
    again = load(hash_set, text, "list")
    assert (again.added, again.duplicates) == (0, 30)
    assert hash_set.entries.count() == 30


def test_a_failed_import_leaves_nothing_and_says_why() -> None:
    hash_set = do_create_set("Broken")
    records = ",".join(json.dumps({"MD5": hexes(16)}) for _ in range(3000))
    truncated = '{"@odata.context": "x", "value": [' + records[: len(records) // 2]
    with pytest.raises(ImportFailed) as failed:
        load(hash_set, truncated, "vics")
    report = failed.value.report
    assert report.state == ImportState.FAILED and "not valid JSON" in report.error
    assert "nothing was imported" in report.error and report.added == 0
    assert not HashEntry.objects.exists()


def test_too_many_refusals_stop_an_import_in_the_wrong_format() -> None:
    hash_set = do_create_set("Wrong format")
    text = "md5,comment\n" + "".join(f"x{n},y\n" for n in range(20))
    with pytest.raises(ImportFailed, match="more than 5 records refused"):
        load(hash_set, text, "csv", max_rejections=5)
    assert not HashEntry.objects.exists()


def test_a_dry_run_counts_but_imports_nothing() -> None:
    hash_set = do_create_set("Dry")
    report = load(hash_set, hexes(16) + "\nbad\n", "list", dry_run=True)
    assert (report.state, report.added, report.rejected) == (ImportState.DRY_RUN, 1, 1)
    assert not HashEntry.objects.exists()


def test_64_digit_hashes_in_a_list_need_to_be_named() -> None:
    hash_set = do_create_set("Ambiguous")
    with pytest.raises(ImportFailed, match="SHA-256 or PDQ"):
        load(hash_set, hexes(32) + "\n", "list")
    load(hash_set, hexes(32) + "\n", "list", options=ReadOptions(hash64_as="pdq"))
    entry = hash_set.entries.get()
    assert entry.pdq and not entry.sha256
    # Logged for the PDQ indexes in the import's transaction.
    assert list(IndexChange.objects.values_list("entry_id", "op")) == [(entry.pk, "a")]


def test_a_vpdq_file_becomes_one_video_entry() -> None:
    data = (TESTDATA / "vpdq" / "pattern-sd-grey-bar.txt").read_bytes()
    assert detect_format("clip.txt", data[:4096]) == "vpdq"
    hash_set = do_create_set("Videos")
    report = load(hash_set, data, "vpdq")
    entry = hash_set.entries.get()
    assert report.added == 1 and len(entry.vpdq) == 206 and entry.key.startswith("vpdq:")


def test_formats_are_told_by_name_and_content() -> None:
    assert detect_format("set.json", b"") == "vics"
    assert detect_format("set.dat", b'\xef\xbb\xbf  {"value": []}') == "vics"
    assert detect_format("set.txt", b"MD5,Category\n") == "csv"
    assert detect_format("set.txt", b"d41d8cd98f00b204e9800998ecf8427e\n") == "list"


def test_hotline_sets_are_named_uniquely_per_owner(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    from openhotline.matching.actions.hash_sets import MatchingError

    do_create_set("Local", owner=hotline_a)
    do_create_set("Local", owner=hotline_b)
    with pytest.raises(MatchingError, match="already has a set of that name"):
        do_create_set("Local", owner=hotline_a)
    with pytest.raises(MatchingError, match="pdq_threshold"):
        do_create_set("Too far", pdq_threshold=300)


def test_a_nul_in_a_vics_comment_refuses_that_record_only() -> None:
    """PostgreSQL cannot store a NUL: the whole import used to die with a traceback."""
    records = [
        {"MediaID": 1, "MD5": hexes(16), "Comments": "fine"},
        {"MediaID": 2, "MD5": hexes(16), "Comments": "bad\u0000comment"},
        {"MediaID": 3, "MD5": hexes(16), "Series": "x\u0000"},
    ]
    hash_set = do_create_set("VICS with NUL")
    body = json.dumps({"@odata.context": VICS2_CONTEXT, "value": records})
    report = load(hash_set, body, "vics")
    assert (report.added, report.rejected) == (1, 2)
    reasons = list(report.rejections.values_list("reason", flat=True))
    assert reasons == ["a NUL character (U+0000) in comments", "a NUL character (U+0000) in series"]
    assert hash_set.entries.get().metadata["comments"] == "fine"


def test_a_nul_in_a_csv_comment_refuses_that_line_only() -> None:
    hash_set = do_create_set("CSV with NUL")
    report = load(hash_set, f"md5,comment\n{hexes(16)},ok\n{hexes(16)},a\x00b\n", "csv")
    assert (report.added, report.rejected) == (1, 1)
    assert list(report.rejections.values_list("line", "reason")) == [
        (3, "a NUL character (U+0000) in comment")
    ]


def test_a_csv_with_a_huge_header_is_refused_as_such_not_as_empty() -> None:
    hash_set = do_create_set("Wide")
    header = "md5," + ",".join(f"c{n}" for n in range(100_000))
    for text in (header + "\n", header + f"\n{hexes(16)}\n"):
        with pytest.raises(ImportFailed) as failed:
            load(hash_set, text, "csv")
        assert "header row is longer than 4096 characters (too many columns?)" in str(failed.value)
    assert not HashEntry.objects.exists()


def test_an_unclosed_quote_refuses_the_import_naming_its_line() -> None:
    """It used to swallow the next 1,724 records into one field and report 1 refused."""
    hash_set = do_create_set("Quote")
    good = "".join(f"{hexes(16)},fine\n" for _ in range(3000))
    for text in (
        f'md5,comment\n{hexes(16)},"opened\n{good}',  # runs past the record limit
        f'md5,comment\n{hexes(16)},ok\n{hexes(16)},"opened\n{hexes(16)},x\n',  # to the end
    ):
        with pytest.raises(ImportFailed) as failed:
            load(hash_set, text, "csv")
        assert "a quote opened on this line is never closed" in str(failed.value)
    assert "Line 2:" in str(_failure(f'md5,comment\n{hexes(16)},"opened\n{good}'))
    assert not HashEntry.objects.exists()
    # A quoted comment with a line break is still one record.
    report = load(hash_set, f'md5,comment\n{hexes(16)},"two\nlines"\n{hexes(16)},x\n', "csv")
    assert (report.added, report.rejected) == (2, 0)


def _failure(text: str) -> ImportFailed:
    with pytest.raises(ImportFailed) as failed:
        load(do_create_set(f"Quote {hexes(4)}"), text, "csv")
    return failed.value
