from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from openhotline.matching import changelog
from openhotline.matching.actions.hash_sets import do_create_set, do_delete_set
from openhotline.matching.actions.importing import ImportFailed, do_import
from openhotline.matching.changelog import log_added
from openhotline.matching.index import SharedIndex, get_index
from openhotline.matching.indexcheck import check_indexes
from openhotline.matching.indexing import catch_up, local_serial, rebuild_indexes, write_snapshots
from openhotline.matching.lookup import Query, find_matches
from openhotline.matching.models import HashEntry, HashSet, IndexChange, IndexReplica
from openhotline.matching.readers import ReadOptions
from openhotline.matching.replica import Follower
from tests.conftest import TESTDATA
from tests.support.racers import Racers, postgres_only

ROOT = Path(__file__).resolve().parents[2]


def pdqs(n: int) -> list[str]:
    return [secrets.token_hex(32) for _ in range(n)]


@pytest.fixture
def imported(db: Any, django_capture_on_commit_callbacks: Any) -> HashSet:
    """A set of 300 PDQ hashes (50 of low quality), and one video."""
    hash_set = do_create_set("Indexed")
    rows = "".join(f"{h},{30 if n < 50 else 90}\n" for n, h in enumerate(pdqs(300)))
    with django_capture_on_commit_callbacks(execute=True):
        do_import(
            hash_set,
            io.BytesIO(f"pdq,quality\n{rows}".encode()),
            file_name="p.csv",
            format="csv",
            options=ReadOptions(),
        )
        do_import(
            hash_set,
            (TESTDATA / "vpdq" / "doorknob-hd-no-bar.txt").open("rb"),
            file_name="v.txt",
            format="vpdq",
        )
    return hash_set


def checks() -> dict[str, Any]:
    return {check.kind: check for check in check_indexes()}


@pytest.mark.django_db
def test_the_index_holds_exactly_the_usable_hashes_of_the_database(imported: HashSet) -> None:
    result = checks()
    assert result["pdq"].is_consistent() and result["pdq"].expected == 250
    assert result["vpdq"].is_consistent() and result["vpdq"].expected > 50
    assert (result["pdq"].stale, result["pdq"].pending) == (0, 0)
    entry = imported.entries.filter(pdq_quality=90).first()
    assert entry is not None
    assert get_index("pdq").search_many([entry.pdq], 0) == [[(entry.pk, 0)]]


@pytest.mark.django_db
def test_an_entry_missing_from_the_index_is_found_and_a_rebuild_restores_it(
    imported: HashSet,
) -> None:
    lost = HashEntry.objects.create(hash_set=imported, key="pdq:lost", pdq=pdqs(1)[0])
    assert checks()["pdq"].missing == [lost.pk]
    rebuild_indexes(grace=0)
    assert all(check.is_consistent() for check in check_indexes())
    found = find_matches(Query(pdq=(lost.pdq,)), HashSet.objects.all())
    assert [f.entry.pk for f in found] == [lost.pk]


@pytest.mark.django_db
def test_an_entry_logged_elsewhere_is_applied_by_the_catch_up(imported: HashSet) -> None:
    with transaction.atomic():  # as another machine's own-set feed would write it
        late = HashEntry.objects.create(hash_set=imported, key="pdq:late", pdq=pdqs(1)[0])
        log_added([late.pk])
    result = checks()["pdq"]
    assert result.pending == 1 and result.is_consistent()
    assert get_index("pdq").search_many([late.pdq], 0) == [[]]
    assert catch_up() == 1 and catch_up() == 0
    assert checks()["pdq"].pending == 0
    assert get_index("pdq").search_many([late.pdq], 0) == [[(late.pk, 0)]]
    assert local_serial() == changelog.latest_serial()


@pytest.mark.django_db
def test_an_index_ahead_of_a_restored_log_follows_it_again(imported: HashSet) -> None:
    """The database went back to a backup: the change at the index's serial is another one."""
    assert catch_up() == 0
    serial = local_serial()
    IndexChange.objects.all().delete()
    with transaction.atomic():
        after = HashEntry.objects.create(hash_set=imported, key="pdq:after", pdq=pdqs(1)[0])
        log_added([after.pk])
    assert IndexChange.objects.get().serial > serial or connection.vendor == "sqlite"
    assert catch_up() == 1
    assert get_index("pdq").search_many([after.pdq], 0) == [[(after.pk, 0)]]


@pytest.mark.django_db
def test_an_import_committed_elsewhere_is_matched_without_a_rebuild(db: Any) -> None:
    hash_set = do_create_set("Elsewhere")
    hashes = pdqs(3)
    # Without the on-commit callback: as if the import ran on another machine.
    do_import(
        hash_set,
        io.BytesIO("".join(h + "\n" for h in hashes).encode()),
        file_name="l.txt",
        format="list",
        options=ReadOptions(hash64_as="pdq"),
    )
    result = checks()["pdq"]
    assert (result.pending, result.expected, result.missing) == (3, 0, [])
    assert get_index("pdq").search_many([hashes[0]], 0) == [[]]
    # A match brings the index up to date first.
    assert len(find_matches(Query(pdq=(hashes[0],)), HashSet.objects.all())) == 1
    assert checks()["pdq"].expected == 3


@pytest.mark.django_db
def test_a_dry_run_and_a_failed_import_log_nothing(db: Any) -> None:
    hash_set = do_create_set("Nothing")
    data = "".join(h + "\n" for h in pdqs(3)).encode()
    options = ReadOptions(hash64_as="pdq")
    do_import(
        hash_set, io.BytesIO(data), file_name="l", format="list", options=options, dry_run=True
    )
    with pytest.raises(ImportFailed):
        do_import(
            hash_set,
            io.BytesIO(data + b"zz\n"),
            file_name="l",
            format="list",
            options=options,
            max_rejections=0,
        )
    assert not IndexChange.objects.exists()


@pytest.mark.django_db
def test_removals_are_logged_after_the_additions(imported: HashSet) -> None:
    added = IndexChange.objects.count()
    do_delete_set(imported)
    assert IndexChange.objects.filter(op=IndexChange.REMOVED).count() == added
    assert not IndexChange.objects.filter(op=IndexChange.REMOVED, serial__lte=added).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_follower_of_the_log_misses_no_change_of_concurrent_writers(db: Any) -> None:
    """Three processes log entries, each committing a moment after numbering its change,
    while a fourth follows the log by serial: it must see every change, in order."""
    hash_set = do_create_set("Raced")
    writers, per_writer = 3, 40
    with Racers(writers + 1, os.environ["OPENHOTLINE_DATA"]) as started:
        calls = [(f"w{n}", hash_set.pk, per_writer, writers * per_writer) for n in range(writers)]
        calls.append(("follow", hash_set.pk, 0, writers * per_writer))
        *written, seen = started.run_each("tests.support.racepaths.log_entries_or_follow", calls)
    logged = list(IndexChange.objects.order_by("serial").values_list("entry_id", flat=True))
    assert sorted(logged) == sorted(i for ids in written for i in ids)
    assert seen == logged


@pytest.mark.django_db
def test_deleted_entries_never_match_and_a_rebuild_drops_them(imported: HashSet) -> None:
    pdq = imported.entries.filter(pdq_quality=90).values_list("pdq", flat=True).first()
    assert pdq is not None
    do_delete_set(imported)
    assert find_matches(Query(pdq=(pdq,)), HashSet.objects.all()) == []
    assert checks()["pdq"].stale == 250
    results = rebuild_indexes(grace=0)
    assert results["pdq"].entries == 0 and len(get_index("pdq")) == 0
    assert checks()["pdq"].stale == 0


def test_a_rebuild_switches_every_reader_to_the_new_generation_and_its_serial(
    tmp_path: Path,
) -> None:
    first, second = pdqs(2)
    writer = SharedIndex(tmp_path / "pdq")
    reader = SharedIndex(tmp_path / "pdq")
    writer.add([1], [first])
    writer.set_serial(5)
    assert reader.search_many([first], 0) == [[(1, 0)]] and reader.serial() == 5
    old = reader.generation

    result = writer.rebuild([([2], [second])], (9, 2), grace=0)
    assert result.generation != old and (result.entries, result.serial) == (1, 9)
    time.sleep(0.3)  # the reader looks for a new generation every 0.2 s
    assert reader.search_many([first, second], 0) == [[], [(2, 0)]]
    assert reader.serial() == 9
    assert not (tmp_path / "pdq" / old).exists()


def test_a_snapshot_installs_as_a_new_generation_with_its_serial(tmp_path: Path) -> None:
    hashes = pdqs(3)
    source = SharedIndex(tmp_path / "a")
    source.add([1, 2, 3], hashes)
    source.set_serial(42)
    snapshot = tmp_path / "snap.tar"
    with snapshot.open("wb") as out:
        assert source.export(out) == 42
    target = SharedIndex(tmp_path / "b")
    target.add([9], [pdqs(1)[0]])
    with snapshot.open("rb") as data:
        assert target.install(data, grace=0) == 42
    assert target.serial() == 42
    assert target.search_many(hashes, 0) == [[(1, 0)], [(2, 0)], [(3, 0)]]
    assert len(target) == 3


def test_another_process_finds_a_new_hash_within_a_second(tmp_path: Path) -> None:
    wanted = pdqs(1)[0]
    writer = SharedIndex(tmp_path / "pdq")
    writer.add([7], [pdqs(1)[0]])
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from openhotline.matching.index import SharedIndex
                index = SharedIndex(Path({str(tmp_path / "pdq")!r}))
                index.search_many([{wanted!r}], 31)
                print("ready", flush=True)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    if index.search_many([{wanted!r}], 31)[0]:
                        print("found", flush=True)
                        break
                    time.sleep(0.01)
                """
            ),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        added = time.monotonic()
        writer.add([8], [wanted])
        assert child.stdout.readline().strip() == "found"
        assert time.monotonic() - added < 1.0
    finally:
        child.kill()
        child.wait()


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["evidence store", "directory"])
def test_a_new_machine_starts_from_the_snapshot_then_follows_the_log(
    imported: HashSet, settings: Any, tmp_path: Path, where: str
) -> None:
    if where == "directory":
        settings.OPENHOTLINE_INDEX_SNAPSHOTS = str(tmp_path / "snapshots")
    serials = write_snapshots()
    assert serials["pdq"] == serials["vpdq"] == changelog.latest_serial()
    with transaction.atomic():
        later = HashEntry.objects.create(hash_set=imported, key="pdq:later", pdq=pdqs(1)[0])
        log_added([later.pk])
    # A machine with an empty index directory; the log before the snapshot is not read.
    settings.OPENHOTLINE_MATCHING_INDEX_DIR = tmp_path / "new-machine"
    assert catch_up() == 1  # only the change after the snapshot
    assert all(check.is_consistent() for check in check_indexes())
    assert checks()["pdq"].expected == 251
    assert get_index("pdq").search_many([later.pdq], 0) == [[(later.pk, 0)]]


@pytest.mark.django_db(transaction=True)
def test_the_worker_follower_applies_new_changes_and_reports_its_serial(
    settings: Any,
) -> None:
    settings.OPENHOTLINE_NODE_NAME = "node-x"
    hash_set = do_create_set("Followed")
    follower = Follower(interval=0.05)
    follower.start()
    try:
        with transaction.atomic():
            entry = HashEntry.objects.create(hash_set=hash_set, key="pdq:f", pdq=pdqs(1)[0])
            log_added([entry.pk])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            replica = IndexReplica.objects.filter(node="node-x").first()
            if replica is not None and replica.serial == changelog.latest_serial():
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the follower never reported the latest serial")
    finally:
        follower.stop()
        follower.join(timeout=10)
    assert get_index("pdq").search_many([entry.pdq], 0) == [[(entry.pk, 0)]]
