from __future__ import annotations

import io

import pytest

from openhotline.lib.hashlist import (
    HashEntry,
    HashListError,
    LineRejection,
    detect_kind,
    normalize_hash,
    read_hash_csv,
    read_hash_list,
    write_hash_csv,
    write_hash_list,
)

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def csv_items(text: str, **options: str) -> list[HashEntry | LineRejection]:
    return list(read_hash_csv(io.StringIO(text), **options))  # type: ignore[arg-type]


def list_items(text: str, **options: str | int) -> list[HashEntry | LineRejection]:
    return list(read_hash_list(io.StringIO(text), **options))  # type: ignore[arg-type]


def test_csv_reads_named_columns_in_any_case_and_order() -> None:
    text = f"Category,SHA-1,MD5,pdq,Quality,Comments\n1,{SHA1},{MD5.upper()},{PDQ},90,first\n"
    (entry,) = csv_items(text)
    assert entry == HashEntry(
        line=2, md5=MD5, sha1=SHA1, pdq=PDQ, category=1, pdq_quality=90, comment="first"
    )


def test_csv_reports_rejected_lines_with_their_numbers_and_goes_on() -> None:
    text = "\n".join(
        [
            "md5,category",
            f"{MD5},1",
            "not-a-hash,1",
            "",
            f"{MD5},one",
            ",2",
            f"{MD5},1,extra",
            f"{MD5.upper()},",
        ]
    )
    items = csv_items(text)
    assert [(type(i).__name__, i.line) for i in items] == [
        ("HashEntry", 2),
        ("LineRejection", 3),
        ("LineRejection", 5),
        ("LineRejection", 6),
        ("LineRejection", 7),
        ("HashEntry", 8),
    ]
    reasons = [i.reason for i in items if isinstance(i, LineRejection)]
    assert "32 hex digits" in reasons[0]
    assert "category must be a whole number" in reasons[1]
    assert "no hash" in reasons[2]
    assert "header has 2" in reasons[3]


def test_csv_tolerates_a_bom_and_semicolons_and_tabs() -> None:
    for text in [f"\ufeffmd5;category\n{MD5};2\n", f"MD5\tcategory\n{MD5}\t2\n"]:
        (entry,) = csv_items(text)
        assert isinstance(entry, HashEntry) and (entry.md5, entry.category) == (MD5, 2)


def test_csv_hash_column_detects_the_kind_by_length() -> None:
    text = f"hash\n{MD5}\n{SHA1}\n{PDQ}\n"
    items = csv_items(text, hash64_as="pdq")
    assert [(i.md5, i.sha1, i.pdq) for i in items if isinstance(i, HashEntry)] == [
        (MD5, None, None),
        (None, SHA1, None),
        (None, None, PDQ),
    ]
    with pytest.raises(HashListError, match="Line 4: 64-digit"):
        csv_items(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("name,category\nx,1\n", "no hash column")],
)
def test_csv_without_a_usable_header_is_refused(text: str, message: str) -> None:
    with pytest.raises(HashListError, match=message):
        csv_items(text)


def test_csv_refuses_an_over_long_line_without_stopping() -> None:
    text = f"md5,comment\n{MD5},{'x' * 10_000}\n{MD5},short\n"
    items = csv_items(text, max_line=1000)  # type: ignore[arg-type]
    assert isinstance(items[0], LineRejection) and items[0].line == 2
    assert items[0].reason == "line too long"
    assert isinstance(items[1], HashEntry) and items[1].line == 3


def test_plain_lists_detect_kinds_and_skip_comments_and_blank_lines() -> None:
    text = f"# exported 2026-01-01\n\n{MD5.upper()}\n{SHA1}  some file.jpg\nxyz\n{SHA256}\n"
    items = list_items(text, hash64_as="sha256")
    assert [(type(i).__name__, i.line) for i in items] == [
        ("HashEntry", 3),
        ("HashEntry", 4),
        ("LineRejection", 5),
        ("HashEntry", 6),
    ]
    assert items[0] == HashEntry(line=3, md5=MD5)
    assert items[1] == HashEntry(line=4, sha1=SHA1)
    assert items[3] == HashEntry(line=6, sha256=SHA256)


def test_a_plain_list_of_64_digit_hashes_needs_the_caller_to_say_which() -> None:
    with pytest.raises(HashListError, match="Line 2: .*SHA-256 or PDQ"):
        list_items(f"{MD5}\n{PDQ}\n")
    assert list_items(f"{PDQ}\n", kind="pdq") == [HashEntry(line=1, pdq=PDQ)]
    assert list_items(f"{PDQ}\n", hash64_as="pdq") == [HashEntry(line=1, pdq=PDQ)]


def test_a_given_kind_rejects_hashes_of_another_length() -> None:
    items = list_items(f"{MD5}\n{SHA1}\n", kind="md5")
    assert items[0] == HashEntry(line=1, md5=MD5)
    assert isinstance(items[1], LineRejection) and "md5 must be 32" in items[1].reason


def test_plain_list_refuses_an_over_long_line_without_stopping() -> None:
    items = list_items("a" * 100_000 + f"\n{MD5}\n", max_line=200)
    assert items == [LineRejection(1, "line too long"), HashEntry(line=2, md5=MD5)]


def test_csv_round_trips() -> None:
    entries = [
        HashEntry(md5=MD5.upper(), sha1=SHA1, category=1),
        HashEntry(pdq=PDQ, pdq_quality=85, category=None),
    ]
    out = io.StringIO()
    assert write_hash_csv(out, entries) == 2
    assert out.getvalue().splitlines()[0] == "md5,sha1,sha256,pdq,pdq_quality,category"
    back = csv_items(out.getvalue())
    assert back == [
        HashEntry(line=2, md5=MD5, sha1=SHA1, category=1),
        HashEntry(line=3, pdq=PDQ, pdq_quality=85),
    ]


def test_plain_list_round_trips_in_lower_case() -> None:
    out = io.StringIO()
    assert write_hash_list(out, [SHA256.upper(), SHA256], "sha256") == 2
    assert out.getvalue() == f"{SHA256}\n{SHA256}\n"
    assert list_items(out.getvalue(), kind="sha256") == [
        HashEntry(line=1, sha256=SHA256),
        HashEntry(line=2, sha256=SHA256),
    ]
    with pytest.raises(ValueError, match="sha256 must be 64"):
        write_hash_list(io.StringIO(), [MD5], "sha256")


def test_hash_helpers() -> None:
    assert normalize_hash("md5", f"  {MD5.upper()} ") == MD5
    with pytest.raises(ValueError, match="hex digits only"):
        normalize_hash("sha1", "g" * 40)
    assert detect_kind(MD5, None) == "md5"
    assert detect_kind(SHA1, None) == "sha1"
    assert detect_kind(PDQ, "pdq") == "pdq"
    with pytest.raises(ValueError, match="12 characters"):
        detect_kind("abcdefabcdef", None)
