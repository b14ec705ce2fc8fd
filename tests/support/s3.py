"""A real S3-compatible server on loopback for the tests: moto's standalone server.

moto (PyPI ``moto[server]``, getmoto/moto) is a maintained, pure-Python
implementation of the S3 API with a standalone HTTP server mode; it installs
from PyPI like every other test dependency. MinIO and Ceph's radosgw do not
come from the package registries CI reaches as a Python package, and
LocalStack needs Docker. The server is a separate process, as redis-server is,
so worker processes started by a test reach the same buckets.

Fixtures (registered for every test by ``tests/conftest.py``):

- ``s3_server`` (session): the running server; its ``env`` are the standard
  AWS variables pointing boto3 at it, with throw-away credentials.
- ``s3_env_vars``: those variables set in this process (and inherited by the
  processes a test starts) for the test's duration.
- ``s3_bucket``: a new, empty bucket; ``s3_evidence_url`` is
  ``s3://<that bucket>/evidence``.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import free_port, wait_for_port


@dataclass
class S3Server:
    endpoint: str
    env: dict[str, str] = field(default_factory=dict)

    def client(self) -> Any:
        import boto3

        return boto3.session.Session(
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_DEFAULT_REGION"],
        ).client("s3", endpoint_url=self.endpoint)

    def new_bucket(self) -> str:
        name = f"test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name


def s3_env(endpoint: str, home: Path) -> dict[str, str]:
    """The standard AWS variables for a local server; no profile or instance metadata."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "openhotline-test",
        "AWS_SECRET_ACCESS_KEY": "openhotline-test-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
    }


def moto_available() -> bool:
    try:
        import flask  # noqa: F401  (moto's server needs the [server] extra)
        import moto.server  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def moto_server(workdir: Path) -> Iterator[S3Server | None]:
    """Start moto's S3 server on a free loopback port; yields it, or None if unavailable."""
    if not moto_available():
        yield None
        return
    port = free_port()
    log = (workdir / "moto.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    try:
        if not wait_for_port(port, timeout=30):
            yield None
            return
        endpoint = f"http://127.0.0.1:{port}"
        yield S3Server(endpoint, s3_env(endpoint, workdir))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    from tests.conftest import missing_service

    workdir = tmp_path_factory.mktemp("s3")
    with moto_server(workdir) as server:
        if server is None:
            missing_service("an S3 server (moto[server], `pip install -e .[test]`)")
        assert server is not None
        yield server


@pytest.fixture
def s3_env_vars(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return s3_server.env


@pytest.fixture
def s3_bucket(s3_server: S3Server, s3_env_vars: dict[str, str]) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def s3_evidence_url(s3_bucket: str) -> str:
    return f"s3://{s3_bucket}/evidence"
