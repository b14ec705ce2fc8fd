"""Wrong settings stop start-up with one line naming the setting, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "OPENHOTLINE_ENV"}
    }
    environ.update({"OPENHOTLINE_DATA": str(tmp_path / "data"), **env})
    return subprocess.run(
        [sys.executable, "-m", "openhotline", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], setting: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert setting in lines[0]


def test_unknown_database_scheme_is_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check", DATABASE_URL="mysql://u:p@db.invalid/x")
    assert_one_clear_line(result, "DATABASE_URL")


def test_missing_secret_in_production_stops_startup(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check", OPENHOTLINE_ENV="production")
    assert_one_clear_line(result, "OPENHOTLINE_SECRET_KEY")
    assert not (tmp_path / "data" / "secrets").exists()


def test_unknown_broker_scheme_is_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check", CELERY_BROKER_URL="kafka://broker.invalid")
    assert_one_clear_line(result, "CELERY_BROKER_URL")


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_unreachable_broker_stops_startup(tmp_path: Path, command: str) -> None:
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    result = run_cli(tmp_path, command, CELERY_BROKER_URL="redis://127.0.0.1:9/0")
    assert_one_clear_line(result, "CELERY_BROKER_URL")


def test_development_generates_a_secret_once(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    secret = (tmp_path / "data" / "secrets" / "openhotline_secret_key").read_text()
    run_cli(tmp_path, "check")
    assert (tmp_path / "data" / "secrets" / "openhotline_secret_key").read_text() == secret


def test_an_error_escaping_a_command_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a command fails with (here the DataError PostgreSQL raised for a NUL in
    an import), the operator reads one line; ``--traceback`` still shows where."""
    from django.db import DataError

    from openhotline import cli
    from openhotline.matching.management.commands import hashset

    def broken(*args: object, **kwargs: object) -> None:
        raise DataError("A string literal cannot contain NUL (0x00) characters.")

    monkeypatch.setattr(hashset.Command, "handle", broken)
    assert cli.main(["openhotline", "hashset", "list"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "openhotline: database error: A string literal cannot contain NUL "
        "(0x00) characters. (--traceback shows where)"
    ]
    with pytest.raises(DataError):
        cli.main(["openhotline", "hashset", "--traceback", "list"])
