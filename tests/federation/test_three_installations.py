"""Three installations on loopback, Denmark, the Netherlands and Germany, federated.

Each is a real ``openhotline serve --no-worker`` plus ``openhotline worker
--beat`` pair, with its own data directory (secrets, embedded broker) and its
own database: a SQLite file in its data directory on SQLite runs, a database
of its own on the PostgreSQL server on PostgreSQL runs. The workers consume
the default queue only: nothing is crawled (the .test hosts do not exist);
the steps that a crawl, an analyst or a re-check would do run as the real
actions in a process of that installation (``tests/federation/remote.py``).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.conftest import missing_service
from tests.network.conftest import generated_image
from tests.support.services import (
    database_url,
    free_port,
    kill_group,
    openhotline_env,
    redis_server,
    start_openhotline,
    wait_for_port,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(1500),
]

FAST = {
    "OPENHOTLINE_FEDERATION_SWEEP_SECONDS": "2",
    "OPENHOTLINE_FEDERATION_PROGRESS_SECONDS": "2",
    "OPENHOTLINE_FEDERATION_PULL_SECONDS": "3",
    # The test asks its deconfliction question itself.
    "OPENHOTLINE_FEDERATION_DECONFLICT_SECONDS": "3600",
    "OPENHOTLINE_FEDERATION_RETRY_SECONDS": "0.5",
    "OPENHOTLINE_FEDERATION_RETRY_MAX_SECONDS": "2",
    "DJANGO_SETTINGS_MODULE": "openhotline.settings",
}
# Each installation has its own identity; none may come from the test's environment.
NOT_INHERITED = ("OPENHOTLINE_TASKS_EAGER", "OPENHOTLINE_FEDERATION_KEY")


class Installation:
    def __init__(self, country: str, name: str, root: Path, broker: str) -> None:
        self.country, self.name = country, name
        self.data = root / country.lower()
        self.data.mkdir()
        self.log = root / f"{country.lower()}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.db_name = ""
        if connection.vendor == "sqlite":
            db_url = f"sqlite:///{self.data / 'db.sqlite3'}"
        else:
            self.db_name = f"{connection.settings_dict['NAME']}_{country.lower()}"
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.db_name}"')
                cursor.execute(f'CREATE DATABASE "{self.db_name}"')
            db_url = database_url().rsplit("/", 1)[0] + "/" + self.db_name
        # A broker each (a database of one Redis server): the embedded SQLite broker
        # hands out about one message a second, too few for sweeps every 2 s.
        self.env = openhotline_env(self.data, DATABASE_URL=db_url, CELERY_BROKER_URL=broker, **FAST)
        for name_ in NOT_INHERITED:
            self.env.pop(name_, None)
        self.procs: list[subprocess.Popen[bytes]] = []

    def run(self, function: str, *args: Any) -> Any:
        """A step in a process of this installation (tests/federation/remote.py)."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.federation.remote", function, json.dumps(args)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"{self.country} {function}: {result.stderr[-3000:]}"
        return json.loads(result.stdout.strip().splitlines()[-1])

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "openhotline", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"{self.country} {args}: {result.stderr[-3000:]}"
        return result.stdout

    def start(self) -> None:
        web = ["serve", "--no-worker", "--addr", f"127.0.0.1:{self.port}", "--web-workers", "1"]
        worker = ["worker", "--beat", "--queues", "default", "--concurrency", "1"]
        self.procs = [
            start_openhotline(web, self.env, self.log),
            start_openhotline(worker, self.env, self.log),
        ]
        assert wait_for_port(self.port, timeout=120), f"{self.country} did not start"
        # Ready once its worker reports in (a heartbeat), so no step waits for it to boot.
        wait_for(lambda: _status(self.url + "readyz") == 200, 180, f"{self.country}'s worker")

    def stop(self) -> None:
        for proc in self.procs:
            kill_group(proc)
        self.procs = []

    def drop(self) -> None:
        if self.db_name:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 (loopback)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[dict[str, Installation]]:
    with redis_server(tmp_path) as redis:
        if redis is None:
            missing_service("redis-server")
            return
        base = redis.rsplit("/", 1)[0]
        sites = {
            "DK": Installation("DK", "Red Barnet DK", tmp_path, f"{base}/1"),
            "NL": Installation("NL", "Meldpunt NL", tmp_path, f"{base}/2"),
            "DE": Installation("DE", "Hotline DE", tmp_path, f"{base}/3"),
        }
        yield from _federated(sites)


def _federated(sites: dict[str, Installation]) -> Iterator[dict[str, Installation]]:
    try:
        migrations = [
            subprocess.Popen(
                [sys.executable, "-m", "openhotline", "migrate", "-v0"],
                env=site.env,
                stdout=subprocess.DEVNULL,
                stderr=site.log.open("ab"),
            )
            for site in sites.values()
        ]
        assert [m.wait(timeout=900) for m in migrations] == [0, 0, 0]
        keys = {}
        for country, site in sites.items():
            site.run("setup", country, site.name)
            keys[country] = site.cli("peer", "identity").split()[0]
        for a, b in (("DK", "NL"), ("NL", "DK"), ("NL", "DE"), ("DE", "NL")):
            sites[a].cli(
                "peer",
                "add",
                sites[b].url,
                "--key",
                keys[b],
                "--country",
                b,
                "--name",
                sites[b].name,
            )
        for site in sites.values():
            site.start()
        yield sites
    finally:
        for site in sites.values():
            site.stop()
        for site in sites.values():
            site.drop()


def test_three_installations_forward_report_back_deconflict_and_share_hashes(
    network: dict[str, Installation],
) -> None:
    dk, nl, de = network["DK"], network["NL"], network["DE"]

    # 1. Denmark gets a report for a URL hosted in the Netherlands and assesses it:
    #    it is in the Dutch queue within 10 s of the verdict taking effect.
    page_1 = "http://hosted-nl.test/gallery/1"
    sent = dk.run("report_and_assess", "DK", page_1, "NL", 1)
    arrived = wait_for(
        lambda: (s := nl.run("url_state", "NL", page_1))["count"] and s, 60, "the forward"
    )
    assert arrived["in_queue"] and arrived["state"] == "new"
    assert arrived["created_at"] - sent["finished_at"] < 10
    assert "Forwarded by Red Barnet DK" in arrived["description"]
    assert ["federation.forwarded_in", "Forwarded by Red Barnet DK (Red Barnet DK, DK)"] in arrived[
        "timeline"
    ]

    # 2. The Dutch hotline assesses it and records its removal; Denmark's timeline shows both.
    done = nl.run("assess_page_and_remove", "NL", page_1)
    assert done["state"] == "illegal"

    def dk_knows_removal() -> Any:
        state = dk.run("url_state", "DK", page_1)
        kinds = {kind for kind, _ in state["timeline"]}
        return {"federation.assessed", "federation.removed"} <= kinds and state

    back = wait_for(dk_knows_removal, 90, "the progress back in Denmark")
    kinds = [kind for kind, _ in back["timeline"]]
    assert "federation.police_referral" in kinds
    assert back["state"] == "removed"
    assert abs(back["removed_at"] - done["removed_at"]) < 1  # counted in time to removal

    # 3. The Dutch installation is down while Denmark forwards: delivered once on its return.
    nl.stop()
    page_2 = "http://hosted-nl.test/gallery/2"
    dk.run("report_and_assess", "DK", page_2, "NL", 2)
    wait_for(
        lambda: any(m["attempts"] >= 1 and m["state"] == "failing" for m in dk.run("outbox")),
        60,
        "a failed delivery while the Netherlands is down",
    )
    nl.start()
    wait_for(lambda: nl.run("url_state", "NL", page_2)["count"], 60, "the forward after return")
    time.sleep(5)  # retries and sweeps go on; nothing may arrive twice
    again = nl.run("url_state", "NL", page_2)
    assert again["count"] == 1 and again["incoming"] == 1
    forwards = dk.run("outbox", "forward")
    assert [m["state"] for m in forwards] == ["delivered", "delivered"]
    assert forwards[1]["attempts"] >= 2

    # 4. Tampered, replayed and unsigned requests are refused, and audited.
    attacks = dk.run("signed_attacks", "NL")
    assert attacks == {"good": 200, "replayed": 401, "tampered": 401, "unsigned": 401}
    refusals = nl.run("audit_refusals")
    assert {"replayed", "bad signature", "unsigned"} <= set(refusals)

    # 5. Deconfliction: Germany finds the URL the Dutch hotline holds too; the URL only
    #    Germany holds leaves no trace in the Netherlands, stored or logged.
    shared, secret = "http://shared-host.test/both", "http://only-de-7f3a.test/private/x9"
    nl.run("file_only", "NL", shared)
    de.run("file_only", "DE", shared)
    de.run("file_only", "DE", secret)
    asked = de.run("ask", "NL", [shared, secret])
    assert asked["held"] == [shared]
    secret_tag = asked["tags"][secret]
    needles = [secret, "only-de-7f3a", secret_tag]
    assert nl.run("find_anywhere", needles) == []
    assert nl.run("find_anywhere", [shared]) != []  # the search does find what is there
    nl_logs = nl.log.read_text(errors="replace")
    assert not [n for n in needles if n in nl_logs]
    shared_state = nl.run("url_state", "NL", shared)
    assert any(kind == "federation.held_by_peer" for kind, _ in shared_state["timeline"])

    # 6. Germany subscribes to a Dutch hash set; an entry added in the Netherlands
    #    matches in Germany after the next pull.
    first, later = (hashlib.sha256(generated_image(seed)).hexdigest() for seed in (101, 102))
    nl_set = nl.run("make_set", "NL", "NL known material", [first])["code"]
    nl.run("publish", "DE", nl_set)
    de_set = de.run("subscribe", "DE", "NL", nl_set)["set"]
    nl.run("add_entries", nl_set, [later])
    wait_for(lambda: de.run("match_picture", "DE", 102, de_set)["matched"], 90, "the pulled entry")
    assert de.run("match_picture", "DE", 101, de_set)["entries"] == 2
