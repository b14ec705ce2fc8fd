from __future__ import annotations

import io
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openhotline.accounts.models import Organisation
from openhotline.lib.pdq import hash_image
from openhotline.matching.models import HashEntry, HashSet, ImportReport, ImportState
from tests.conftest import TESTDATA
from tests.matching.conftest import VICS2_CONTEXT, vics_media_file

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def hashset(*args: str) -> str:
    return run("hashset", *args)[0]


@pytest.fixture
def vic_set(db: Any) -> HashSet:
    hashset("create", "Project VIC", "--shared", "--trust", "trusted", "--verdict", "baseline")
    return HashSet.objects.get(name="Project VIC")


def test_sets_are_created_listed_changed_and_deleted(hotline_a: Organisation) -> None:
    out = hashset(
        "create",
        "Local list",
        "--hotline",
        hotline_a.slug,
        "--threshold",
        "20",
        "--category",
        "2=national",
        "--review-required",
    )
    created = HashSet.objects.get()
    assert created.code in out and created.owner == hotline_a and created.review_required
    assert created.category_verdicts["2"] == "national"  # amended
    assert created.category_verdicts["0"] == "not_illegal"  # from the US profile
    assert "Local list" in hashset("list") and "PDQ <= 20" in hashset("list")
    hashset("update", "Local list", "--no-review", "--inactive", "--threshold", "12")
    created.refresh_from_db()
    assert (created.review_required, created.active, created.pdq_threshold) == (False, False, 12)
    with pytest.raises(CommandError, match="pdq_threshold"):
        hashset("update", created.code, "--threshold", "999")
    with pytest.raises(CommandError, match="expected CATEGORY=VERDICT"):
        hashset("update", created.code, "--category", "two=baseline")
    assert "deleted Local list" in hashset("delete", created.code, "--yes")


def test_an_import_reports_progress_and_refused_lines(vic_set: HashSet, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    good = [secrets.token_hex(16) for _ in range(5)]
    listing.write_text("\n".join([good[0], "zzz", *good[1:], "12345"]) + "\n")
    out, err = run("hashset", "import", vic_set.code, str(listing))
    assert "added 5 entries to Project VIC" in out and "2 refused" in out
    assert "list.txt:2: md5" not in err and "list.txt:2:" in err and "list.txt:7:" in err
    assert "records/s" in err  # the progress line
    code = ImportReport.objects.get().code
    report = hashset("report", code)
    assert "5 added" in report and "list.txt:7:" in report
    assert code in hashset("report")


HOSTILE = {
    "truncated": '{"@odata.context": "%s", "value": [{"MD5": "%s"}, {"MD5": "',
    "not json": "MD5;this is not json at all {",
    "utf16": None,
    "huge string": '{"value": [{"MD5": "' + "A" * 500_000 + '"}]}',
    "deep nesting": '{"value": [' + "[" * 250_000 + "]" * 250_000 + "]}",
    "no records": '{"@odata.context": "%s", "Media": []}',
    "value not a list": '{"value": {"MD5": "%s"}}',
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_vics_file_is_refused_clearly_and_leaves_nothing(
    name: str, vic_set: HashSet, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.json"
    template = HOSTILE[name]
    if template is None:
        path.write_bytes(json.dumps({"value": [{"MD5": "a" * 32}]}).encode("utf-16"))
    else:
        filled = template.replace("%s", VICS2_CONTEXT, 1).replace("%s", "b" * 32)
        path.write_text(filled)
    with pytest.raises(CommandError) as refused:
        run("hashset", "import", vic_set.code, str(path), "--no-progress")
    message = str(refused.value)
    assert message.startswith("hostile.json: ") and "nothing was imported" in message
    assert len(message) < 400
    assert not HashEntry.objects.exists()
    report = ImportReport.objects.get()
    assert report.state == ImportState.FAILED and report.code in message


def test_records_of_the_wrong_types_are_refused_one_by_one(
    vic_set: HashSet, tmp_path: Path
) -> None:
    good = secrets.token_hex(16)
    records = [
        {"MD5": good, "Category": "1", "IsDistributed": "yes"},
        {"MD5": ["not", "text"]},
        {"MD5": secrets.token_hex(16), "Category": {"deep": 1}},
        {"MD5": secrets.token_hex(16), "IsDistributed": "perhaps"},
        "a string",
        {"SHA1": 12},
    ]
    path = vics_media_file(tmp_path / "types.json", records)  # type: ignore[arg-type]
    out, err = run("hashset", "import", vic_set.code, str(path), "--no-progress")
    assert "added 1 entries" in out and "5 refused" in out
    assert HashEntry.objects.get().md5 == good
    for number in (2, 3, 4, 5, 6):
        assert f"types.json:{number}:" in err


def test_export_and_import_round_trip_through_files(vic_set: HashSet, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    rows = [(secrets.token_hex(16), secrets.token_hex(32), n % 2) for n in range(30)]
    source.write_text("md5,sha256,category\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    hashset("import", vic_set.code, str(source), "--no-progress")
    exported = tmp_path / "out.json"
    hashset("export", "Project VIC", "--format", "vics", "--out", str(exported))
    assert json.loads(exported.read_text())["@odata.context"].endswith("/US/$metadata#Media")
    hashset("create", "Copy", "--shared")
    hashset("import", "Copy", str(exported), "--no-progress")
    copy = HashSet.objects.get(name="Copy")
    assert sorted(copy.entries.values_list("md5", "sha256", "category")) == sorted(rows)
    with pytest.raises(CommandError, match="give --kind"):
        hashset("export", "Copy", "--format", "list")


def test_hash_prints_one_json_object_per_file() -> None:
    image = TESTDATA / "pdq" / "bridge-1-original.jpg"
    video = TESTDATA / "vpdq" / "pattern-sd-grey-bar.mp4"
    out, _ = run("hash", str(image), str(video), "--json")
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["path"] == str(image) and len(first["pdq"]) == 64 and first["pdq_quality"] >= 80
    assert {"md5", "sha1", "sha256"} <= set(first) and "vpdq" not in first
    assert second["kind"] == "video" and second["pdq"] is None
    assert len(second["vpdq"]) >= 5 and {"pdq", "quality"} <= set(second["vpdq"][0])
    with pytest.raises(CommandError, match="1 of 2 files could not be read"):
        run("hash", str(image), "/nonexistent/file.jpg", "--json")


def test_match_finds_a_file_and_a_pdq_hash(
    vic_set: HashSet,
    hotline_b: Organisation,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    image = TESTDATA / "pdq" / "bridge-1-original.jpg"
    hashes = hash_image(str(image))
    assert hashes.pdq is not None
    pdq = hashes.pdq
    listing = tmp_path / "p.csv"
    listing.write_text(f"pdq,md5\n{pdq},{'c' * 32}\n")
    with django_capture_on_commit_callbacks(execute=True):
        hashset("import", vic_set.code, str(listing), "--no-progress")
    out, _ = run("match", str(TESTDATA / "pdq" / "bridge-5-flipx.jpg"), "--json")
    result = json.loads(out)
    (match,) = result["matches"]
    assert match["set"]["name"] == "Project VIC" and match["kind"] == "pdq"
    assert isinstance(match["distance"], int) and match["distance"] <= 31
    assert match["verdict"] == "baseline" and match["entry"]["md5"] == "c" * 32
    out, _ = run("match", "--pdq", pdq.upper(), "--json")
    assert json.loads(out)["matches"][0]["distance"] == 0
    hashset("update", vic_set.code, "--audience", "network")
    partner_view = run("match", "--pdq", pdq, "--org", hotline_b.slug)[0]
    assert "Project VIC" in partner_view
    with pytest.raises(CommandError, match="64 hex digits"):
        run("match", "--pdq", "abc")


def test_the_index_commands_check_sync_and_rebuild(
    vic_set: HashSet, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    listing = tmp_path / "p.txt"
    listing.write_text("".join(secrets.token_hex(32) + "\n" for _ in range(20)))
    hashset("import", vic_set.code, str(listing), "--hash64", "pdq", "--no-progress")
    assert "applied 20 changes; the index is at serial" in hashset("sync-index")
    assert "applied 0 changes" in hashset("sync-index")
    assert "pdq: 20 hashes expected, 0 missing" in hashset("check-index")
    HashEntry.objects.create(hash_set=vic_set, key="pdq:x", pdq=secrets.token_hex(32))
    with pytest.raises(CommandError, match="rebuild-index"):
        hashset("check-index")
    assert "pdq: generation g000002, 21 hashes" in hashset("rebuild-index", "--grace", "0")
    assert "0 missing" in hashset("check-index")
