"""The live API keeps to its OpenAPI schema: schemathesis ``--checks all`` finds nothing.

A real ``openhotline serve`` on loopback, and schemathesis run against it once
with a partner's key, once with a police key and once with an ISP's key
(issue 13). Every request goes to 127.0.0.1: the schema is read from the
server and ``--url`` pins the base. The seed is fixed so that CI is
repeatable; a new failure shows as the schemathesis report in the assertion.

``tests/api/schemathesis.toml`` lets ``positive_data_acceptance`` take 422:
some rules are the API's, not JSON Schema's (a URL must be http(s), a
hotline slug must exist, a report needs a URL or a description), and the
schema documents that 422.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from openhotline.accounts.actions import do_create_api_key, do_create_organisation
from tests.support.services import free_port, kill_group, openhotline_env, start_openhotline

# Three schemathesis runs against one server: over 4 minutes on a loaded machine.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(900),
]

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = "5"
SEED = "20261204"


def wait_healthy(base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("the web server did not answer /healthz")


def schemathesis(base: str, key: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")
    }  # loopback only: no proxy
    env["NO_PROXY"] = "*"
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from schemathesis.cli import schemathesis; schemathesis()",
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/api/v1/openapi.json",
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
            "--no-color",
        ],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=600,
        check=False,
    )


def test_schemathesis_finds_no_failure_with_partner_police_and_isp_keys(tmp_path: Path) -> None:
    hotline = do_create_organisation("Hotline A", "hotline", "DK")
    keys = {
        kind: do_create_api_key(do_create_organisation(f"{kind} org", kind, "DK"), "st", scope)[1]
        for kind, scope in (("partner", "read_write"), ("lea", "read"), ("isp", "read"))
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = openhotline_env(tmp_path / "data", OPENHOTLINE_PUBLIC_HOTLINE=hotline.slug)
    server = start_openhotline(
        ["serve", "--addr", f"127.0.0.1:{port}", "--no-worker", "--web-workers", "3"],
        env,
        tmp_path / "serve.log",
    )
    try:
        wait_healthy(base)
        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            runs = dict(
                zip(
                    keys,
                    pool.map(lambda kind: schemathesis(base, keys[kind], tmp_path), keys),
                    strict=True,
                )
            )
    finally:
        kill_group(server)
    for kind, result in runs.items():
        assert result.returncode == 0, f"{kind} key:\n{result.stdout[-6000:]}\n{result.stderr}"
        assert " passed" in result.stdout and "failure" not in result.stdout.split("SUMMARY")[-1]
