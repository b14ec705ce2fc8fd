"""The network simulation, small, as a test of correctness (not of timing).

It runs ``benchmarks/network_sim.py`` as the operator would, in its own
process with its own data directory, SQLite database, Redis, worker, DNS,
RDAP, SMTP sink and hosters on loopback, and reads the JSON of its last line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_simulated_internet_ends_with_every_removal_detected(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        missing_service("redis-server")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "network_sim.py"),
            "--reports",
            "8",
            "--hosters",
            "4",
            "--seed",
            "3",
            "--minutes",
            "4",
            "--day-seconds",
            "8",
            "--json",
            "--workdir",
            str(tmp_path / "sim"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    log = tmp_path / "sim" / "worker.log"
    context = run.stdout[-3000:] + run.stderr[-3000:]
    if log.exists():
        context += log.read_text(errors="replace")[-2000:]
    assert run.returncode == 0, context
    result = json.loads(run.stdout.strip().splitlines()[-1])
    # Everything the hosters took down was seen to be down; no hoster got a notice
    # for material it never hosted; nothing waited past its policy time.
    assert result["removals_followed"] >= 1, context
    assert result["removals_detected_share"] == 1.0, context
    assert result["misdirected_notices"] == 0, context
    assert result["stuck"] == 0, context
    # The beat led and fired: only its sweeps send notices and queue re-checks here.
    assert result["first_notice_after_s"] is not None, context
    assert result["first_recheck_after_s"] is not None and result["rechecks"] >= 1, context
    # The chain ran: notices by e-mail, the analyst's reveals audited and counted.
    assert result["notices_sent"] >= 1 and result["emails_sent"] >= result["notices_sent"]
    assert result["urls_assessed"] >= 1 and result["reveal_audit_entries"] >= 1
    # Exposure is a measurement here (the analyst may beat matching to an item), not a check.
    assert 0 < result["never_revealed_share"] < 1
