"""Reading blocklist imports: every bad line is told by its number, never a crash."""

from __future__ import annotations

import io

import pytest

from openhotline.blocking.importing import (
    MAX_LINE,
    ImportFormatError,
    ImportProblem,
    ImportRow,
    read_list,
)


def rows(text: str) -> list[ImportRow | ImportProblem]:
    return list(read_list(io.BytesIO(text.encode())))


def test_csv_rows_and_problems_keep_their_line_numbers() -> None:
    text = 'value,kind,reason\nhttp://a.test/,url,x\n\nb.test,domain,"two\nlines"\nc.test,nope,\n'
    assert rows(text) == [
        ImportRow(2, "http://a.test/", "url", "x"),
        ImportRow(4, "b.test", "domain", "two\nlines"),
        ImportProblem(6, "kind must be url, host or domain, not 'nope'"),
    ]


def test_a_nul_refuses_its_line_in_csv_and_json() -> None:
    assert rows("value,kind,reason\na.test,domain,bad\x00\nb.test,domain,\n") == [
        ImportProblem(2, "a NUL character (U+0000) in reason"),
        ImportRow(3, "b.test", "domain", ""),
    ]
    assert rows('[{"value": "a\\u0000.test", "kind": "domain"}]') == [
        ImportProblem(1, "a NUL character (U+0000) in value")
    ]


def test_a_huge_header_or_line_is_named_not_taken_for_an_empty_file() -> None:
    wide = "value,kind," + ",".join(f"c{n}" for n in range(100_000))
    with pytest.raises(ImportFormatError, match="too many columns"):
        rows(wide + "\n")
    long_line = "a.test,domain," + "x" * (MAX_LINE + 10)
    assert rows(f"value,kind,reason\n{long_line}\nb.test,domain,\n") == [
        ImportProblem(2, f"line longer than {MAX_LINE} characters"),
        ImportRow(3, "b.test", "domain", ""),
    ]
    with pytest.raises(ImportFormatError, match="empty"):
        rows("")


def test_an_unclosed_quote_refuses_the_file_naming_its_line() -> None:
    good = "".join(f"d{n}.test,domain,\n" for n in range(3000))
    for text in (f'value,kind,reason\na.test,domain,"open\n{good}', 'value,kind\n"a.test,url\n'):
        with pytest.raises(ImportFormatError, match="Line 2: a quote opened on this line"):
            rows(text)
