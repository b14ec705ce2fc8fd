from __future__ import annotations

import io
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openhotline.matching.actions.hash_sets import do_create_set, do_delete_set
from openhotline.matching.actions.importing import do_import
from openhotline.matching.index import SharedIndex, get_index
from openhotline.matching.indexcheck import check_indexes
from openhotline.matching.indexing import index_pending, rebuild_indexes
from openhotline.matching.lookup import Query, find_matches
from openhotline.matching.models import HashEntry, HashSet
from openhotline.matching.readers import ReadOptions
from tests.conftest import TESTDATA

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
def test_pending_entries_are_indexed_by_the_sync(imported: HashSet) -> None:
    late = HashEntry.objects.create(
        hash_set=imported, key="pdq:late", pdq=pdqs(1)[0], indexed=False
    )
    result = checks()["pdq"]
    assert result.pending == 1 and result.is_consistent()
    assert index_pending() == 1
    late.refresh_from_db()
    assert late.indexed and checks()["pdq"].pending == 0
    assert get_index("pdq").search_many([late.pdq], 0) == [[(late.pk, 0)]]


@pytest.mark.django_db
def test_an_import_whose_indexing_never_ran_is_finished_by_the_sync(db: Any) -> None:
    hash_set = do_create_set("Crashed")
    hashes = pdqs(3)
    # Without the on-commit callback: as if the process died right after the commit.
    report = do_import(
        hash_set,
        io.BytesIO("".join(h + "\n" for h in hashes).encode()),
        file_name="l.txt",
        format="list",
        options=ReadOptions(hash64_as="pdq"),
    )
    result = checks()["pdq"]
    assert (result.pending, result.expected, result.missing) == (3, 0, [])
    assert find_matches(Query(pdq=(hashes[0],)), HashSet.objects.all()) == []
    assert index_pending() == 3
    report.refresh_from_db()
    assert report.indexed_at is not None and checks()["pdq"].expected == 3
    assert len(find_matches(Query(pdq=(hashes[0],)), HashSet.objects.all())) == 1


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


def test_a_rebuild_switches_every_reader_and_keeps_what_was_added_meanwhile(
    tmp_path: Path,
) -> None:
    first, second, late = pdqs(3)
    writer = SharedIndex(tmp_path / "pdq")
    reader = SharedIndex(tmp_path / "pdq")
    writer.add([1], [first])
    assert reader.search_many([first], 0) == [[(1, 0)]]
    old = reader.generation

    def catch_up(seen: np.ndarray) -> list[tuple[list[int], list[str]]]:
        assert list(seen) == [2]
        return [([3], [late])]

    result = writer.rebuild([([2], [second])], catch_up, grace=0)
    assert result.generation != old and (result.entries, result.caught_up) == (1, 1)
    time.sleep(0.3)  # the reader looks for a new generation every 0.2 s
    assert reader.search_many([first, second, late], 0) == [[], [(2, 0)], [(3, 0)]]
    assert not (tmp_path / "pdq" / old).exists()


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
