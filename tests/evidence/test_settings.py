"""OPENHOTLINE_EVIDENCE_URL: a wrong value stops start-up with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from openhotline.lib.s3storage import parse_s3_url
from tests.test_cli_startup import assert_one_clear_line, run_cli

pytestmark = pytest.mark.evidence_backends("local")


@pytest.mark.parametrize("url", ["ftp://bucket/x", "s3://", "/srv/evidence", "s3://UPPER/x"])
def test_a_wrong_evidence_url_stops_startup(tmp_path: Path, url: str) -> None:
    result = run_cli(tmp_path, "check", OPENHOTLINE_EVIDENCE_URL=url)
    assert_one_clear_line(result, "OPENHOTLINE_EVIDENCE_URL")


def test_an_s3_url_names_bucket_and_prefix() -> None:
    assert parse_s3_url("s3://hotline-evidence/prod/dk/") == ("hotline-evidence", "prod/dk")
    assert parse_s3_url("s3://hotline-evidence") == ("hotline-evidence", "")
    with pytest.raises(ValueError, match="not an s3"):
        parse_s3_url("https://hotline-evidence/")
