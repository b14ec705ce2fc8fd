"""The data directory holds TOTP seeds, session keys, password hashes and keys:
only the account that runs openhotline may read it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


def environment(data: Path, **env: str) -> dict[str, str]:
    """This process's environment without openhotline's settings, plus ``env``."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL"} and not k.startswith("OPENHOTLINE_")
    }
    return {**environ, "OPENHOTLINE_DATA": str(data), **env}


def run_cli(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = environment(data, **env)
    return subprocess.run(
        [sys.executable, "-m", "openhotline", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
        check=False,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_installation_keeps_its_data_to_its_owner(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # A permissive umask, as on many servers: the files must be private anyway.
    old = os.umask(0o022)
    try:
        result = run_cli(data, "migrate", "--verbosity", "0")
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    database = data / "openhotline.sqlite3"
    assert database.exists()
    private = [database, *data.glob("openhotline.sqlite3-*"), *(data / "secrets").iterdir()]
    broker = data / "broker.sqlite3"
    if broker.exists():
        private.append(broker)
    assert len(private) >= 4
    for path in private:
        assert mode(path) & 0o077 == 0, f"{path.name} is {oct(mode(path))}"
    assert mode(data / "secrets") == 0o700


def test_an_existing_database_readable_by_others_is_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "migrate", "--verbosity", "0").returncode == 0
    database = data / "openhotline.sqlite3"
    database.chmod(0o644)
    result = run_cli(data, "check")
    assert result.returncode == 0, result.stderr
    assert mode(database) == 0o600


def test_production_refuses_a_data_directory_others_can_read(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    result = run_cli(data, "check", OPENHOTLINE_ENV="production")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "OPENHOTLINE_DATA" in lines[0] and str(data) in lines[0]
    assert "0755" in lines[0]


def test_reading_the_settings_makes_no_directory_start_up_makes_them(tmp_path: Path) -> None:
    """settings.py is a table: reading it creates nothing; django.setup() prepares the data."""
    data = tmp_path / "data"
    secrets = {
        name: "given-" + name.lower()
        for name in (
            "OPENHOTLINE_SECRET_KEY",
            "OPENHOTLINE_INTAKE_KEY",
            "OPENHOTLINE_AUDIT_KEY",
            "OPENHOTLINE_AUDIT_CHECKPOINT_KEY",
            "OPENHOTLINE_FEDERATION_KEY",
        )
    }
    read = subprocess.run(
        [sys.executable, "-c", "import openhotline.settings as s; print(s.DATA_DIR)"],
        capture_output=True,
        text=True,
        env=environment(data, **secrets),
        timeout=120,
        check=False,
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == str(data)
    assert not data.exists()

    result = run_cli(data, "check", **secrets)
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700 and mode(data / "static") == 0o700
    assert mode(data / "openhotline.sqlite3") == 0o600
    assert mode(data / "broker.sqlite3") == 0o600
    assert not (data / "secrets").exists()  # every secret was given
