"""docs/deploy.md's backup and restore, done: database, secrets and evidence.

The test backs up a running installation the way the guide says (an online
SQLite backup or ``pg_dump``; the secrets directory; the evidence directory or
bucket), restores it into a fresh data directory, a fresh database and (on
S3) a fresh bucket, and reads an evidence item back in a new openhotline
process that has nothing of the original but the backup.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from openhotline.accounts.models import Organisation
from openhotline.evidence.actions import do_store_media
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource
from tests.evidence.conftest import sharp_image
from tests.support.evidence import EvidenceBackend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def pg_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": str(db.get("HOST") or "127.0.0.1"),
        "PGPORT": str(db.get("PORT") or 5432),
        "PGUSER": str(db.get("USER") or ""),
        "PGPASSWORD": str(db.get("PASSWORD") or ""),
    }


def back_up_database(backup: Path) -> Path:
    """`sqlite3 DB ".backup FILE"` (the same online-backup API), or `pg_dump -Fc`."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        target = backup / "db.sqlite3"
        with sqlite3.connect(name) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return target
    target = backup / "db.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={target}", name], env=pg_env(), check=True
    )
    return target


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL, name) of an empty database to restore into; dropped afterwards."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored" / "db.sqlite3"
        path.parent.mkdir()
        yield f"sqlite:///{path}", str(path)
        return
    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{secrets.token_hex(4)}"
    env = pg_env()
    subprocess.run(["createdb", name], env=env, check=True)
    try:
        auth = f"{env['PGUSER']}:{env['PGPASSWORD']}@"
        yield f"postgresql://{auth}{env['PGHOST']}:{env['PGPORT']}/{name}", name
    finally:
        subprocess.run(["dropdb", "--force", name], env=env, check=True)


def restore_database(dump: Path, name: str) -> None:
    if connection.vendor == "sqlite":
        shutil.copyfile(dump, name)
        return
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={name}", str(dump)],
        env=pg_env(),
        check=True,
    )


def copy_bucket(client: Any, source_url: str, target_url: str) -> int:
    """Copy every object under one s3:// prefix to another (what `aws s3 sync` does)."""
    src_bucket, _, src_prefix = source_url[len("s3://") :].partition("/")
    dst_bucket, _, dst_prefix = target_url[len("s3://") :].partition("/")
    copied = 0
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=src_bucket, Prefix=f"{src_prefix}/"):
        for entry in page.get("Contents", []):
            key = dst_prefix + entry["Key"][len(src_prefix) :]
            client.copy_object(
                Bucket=dst_bucket, Key=key, CopySource={"Bucket": src_bucket, "Key": entry["Key"]}
            )
            copied += 1
    return copied


def test_a_backup_restores_into_a_fresh_installation_that_reads_the_evidence(
    hotline_a: Organisation,
    evidence_store: EvidenceBackend,
    fresh_database: tuple[str, str],
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://img.test/p"])
    data = sharp_image(7)
    item, _ = do_store_media(data, mime="image/png", reported_url=report.urls.get())

    # 1. Back up: the database, the secrets, the evidence.
    backup = tmp_path / "backup"
    (backup / "secrets").mkdir(parents=True)
    dump = back_up_database(backup)
    shutil.copy2(settings.OPENHOTLINE_EVIDENCE_KEYRING_FILE, backup / "secrets")
    if evidence_store.kind == "local":
        shutil.copytree(evidence_store.directory, backup / "evidence")
    else:
        server = request.getfixturevalue("s3_server")
        backup_url = f"s3://{server.new_bucket()}/evidence"
        assert copy_bucket(evidence_store.client, evidence_store.url, backup_url) == 1

    # 2. Restore into a fresh data directory, database and (on S3) bucket.
    data_dir = tmp_path / "restored-data"
    (data_dir / "secrets").mkdir(parents=True, mode=0o700)
    keyring = Path(settings.OPENHOTLINE_EVIDENCE_KEYRING_FILE).name
    shutil.copy2(backup / "secrets" / keyring, data_dir / "secrets" / "evidence-keyring.json")
    url, name = fresh_database
    restore_database(dump, name)
    evidence_url = ""
    if evidence_store.kind == "local":
        shutil.copytree(backup / "evidence", data_dir / "evidence")
    else:
        evidence_url = f"s3://{server.new_bucket()}/evidence"
        assert copy_bucket(evidence_store.client, backup_url, evidence_url) == 1

    # The original is lost: only the restored copies can answer now.
    if evidence_store.kind == "local":
        shutil.rmtree(evidence_store.directory)
    else:
        bucket, _, prefix = evidence_store.url[len("s3://") :].partition("/")
        for key in evidence_store.raw_objects():
            evidence_store.client.delete_object(Bucket=bucket, Key=f"{prefix}/{key}")

    # 3. A new process with only the restored copies reads the item back.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OPENHOTLINE_") and key != "DATABASE_URL"
    }
    env.update(
        {
            "OPENHOTLINE_DATA": str(data_dir),
            "DATABASE_URL": url,
            "OPENHOTLINE_EVIDENCE_URL": evidence_url,
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
    )
    script = (
        "import hashlib; from openhotline.evidence.models import MediaItem; "
        "from openhotline.evidence.store import get_store; "
        f"item = MediaItem.objects.get(code={item.code!r}); "
        "print(hashlib.sha256(get_store().get(item.blob.name)).hexdigest())"
    )
    result = subprocess.run(
        [sys.executable, "-m", "openhotline", "shell", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == hashlib.sha256(data).hexdigest()
