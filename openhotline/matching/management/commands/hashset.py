from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db.models import Count, Q

from openhotline.accounts.models import Organisation, OrgKind, User
from openhotline.matching.actions.hash_sets import (
    MatchingError,
    do_create_set,
    do_delete_set,
    do_update_set,
)
from openhotline.matching.actions.importing import ImportFailed, do_import
from openhotline.matching.exporting import EXPORT_FORMATS, LIST_KINDS, export_set
from openhotline.matching.indexcheck import check_indexes
from openhotline.matching.indexing import catch_up, local_serial, rebuild_indexes, write_snapshots
from openhotline.matching.models import (
    MAX_PDQ_THRESHOLD,
    Audience,
    CategoryProfile,
    HashSet,
    ImportReport,
    SetVerdict,
    Trust,
)
from openhotline.matching.readers import FORMATS, ReadOptions, detect_format
from openhotline.matching.verdicts import parse_category_map

SHOWN_REJECTIONS = 50


class _Tristate(argparse.Action):
    """--flag / --no-flag pairs that leave the value None when neither is given."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        setattr(namespace, self.dest, not str(option).startswith(("--no-", "--inactive")))


class ProgressLine:
    """One self-overwriting line on standard error: records, bytes, rate."""

    def __init__(self, out: OutputWrapper, total_bytes: int, enabled: bool) -> None:
        self.out = out
        self.total = total_bytes
        self.enabled = enabled
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, records: int, position: int) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        share = f" ({100 * position / self.total:.0f}%)" if self.total else ""
        self.out.write(
            f"\r{records:,} records, {position / 1e6:.1f} of {self.total / 1e6:.1f} MB"
            f"{share}, {records / elapsed:,.0f} records/s   ",
            ending="",
        )
        self.out.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.out.write("")


class Command(BaseCommand):
    help = (
        "Hash sets: `list`, `create NAME`, `update SET`, `delete SET`, "
        "`import SET FILE`, `export SET --format F`, `report [CODE]`, and the PDQ index: "
        "`sync-index`, `check-index`, `snapshot-index`, `rebuild-index`. "
        "SET is a set's code or name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        listing = sub.add_parser("list", help="hash sets with their entry counts")
        listing.add_argument("--hotline", help="only this hotline's sets and the shared ones")
        create = sub.add_parser("create", help="a new set, of a hotline or shared")
        create.add_argument("name")
        owner = create.add_mutually_exclusive_group(required=True)
        owner.add_argument("--hotline", help="slug of the hotline that owns it")
        owner.add_argument("--shared", action="store_true", help="installation-wide")
        update = sub.add_parser("update", help="change a set's settings")
        update.add_argument("set")
        update.add_argument("--name")
        update.add_argument("--active", action=_Tristate, nargs=0, dest="active")
        update.add_argument("--inactive", action=_Tristate, nargs=0, dest="active")
        for each in (create, update):
            each.add_argument("--source")
            each.add_argument("--description")
            each.add_argument("--trust", choices=Trust.values)
            each.add_argument("--verdict", choices=SetVerdict.values, dest="default_verdict")
            each.add_argument("--profile", choices=CategoryProfile.values)
            each.add_argument(
                "--category",
                action="append",
                default=[],
                metavar="N=VERDICT",
                help="what VICS category N means (a verdict, 'default' or 'none')",
            )
            each.add_argument("--threshold", type=int, help=f"PDQ distance, 0-{MAX_PDQ_THRESHOLD}")
            each.add_argument("--review-required", action=_Tristate, nargs=0, dest="review")
            each.add_argument("--no-review", action=_Tristate, nargs=0, dest="review")
            each.add_argument("--audience", choices=Audience.values)
        delete = sub.add_parser("delete", help="delete a set and its entries")
        delete.add_argument("set")
        delete.add_argument("--yes", action="store_true", required=True)
        imp = sub.add_parser("import", help="import a VICS, CSV, plain-list or vPDQ file")
        imp.add_argument("set")
        imp.add_argument("file")
        imp.add_argument("--format", choices=("auto", *FORMATS), default="auto")
        imp.add_argument("--hash64", choices=("sha256", "pdq"), help="what 64-digit hashes are")
        imp.add_argument("--kind", choices=LIST_KINDS, help="plain lists: the hash kind")
        imp.add_argument("--dry-run", action="store_true", help="check the file, import nothing")
        imp.add_argument("--max-rejections", type=int, help="stop (import nothing) past this")
        imp.add_argument("--as", dest="username", help="the user importing (audit)")
        imp.add_argument("--no-progress", action="store_true")
        exp = sub.add_parser("export", help="write a set as VICS 2.0, CSV or a plain list")
        exp.add_argument("set")
        exp.add_argument("--format", choices=EXPORT_FORMATS, required=True)
        exp.add_argument("--kind", choices=LIST_KINDS, default="", help="plain lists")
        exp.add_argument("--out", help="file to write (default: standard output)")
        report = sub.add_parser("report", help="an import's report, or the latest imports")
        report.add_argument("code", nargs="?")
        sub.add_parser("sync-index", help="apply the change log to this machine's index")
        sub.add_parser("snapshot-index", help="store this machine's index for new machines")
        sub.add_parser("check-index", help="compare the PDQ indexes with the database")
        rebuild = sub.add_parser("rebuild-index", help="write the PDQ indexes afresh")
        rebuild.add_argument("--grace", type=float, help="seconds to wait after switching")
        for each in (update, delete, imp, exp):
            each.add_argument("--hotline", help="the owner, when names are ambiguous")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["subcommand"].replace("-", "_")
        try:
            getattr(self, f"handle_{name}")(options)
        except MatchingError as exc:
            raise CommandError(str(exc)) from None

    # ------------------------------------------------------------------ helpers

    def _hotline(self, slug: str) -> Organisation:
        hotline = Organisation.objects.filter(slug=slug, kind=OrgKind.HOTLINE).first()
        if hotline is None:
            raise CommandError(f"no hotline with the slug {slug!r}")
        return hotline

    def _set(self, options: dict[str, Any]) -> HashSet:
        ref = options["set"]
        found = HashSet.objects.filter(Q(code=ref.upper()) | Q(name=ref)).select_related("owner")
        if options.get("hotline"):
            found = found.filter(owner=self._hotline(options["hotline"]))
        sets = list(found[:5])
        if not sets:
            raise CommandError(f"no hash set with the code or name {ref!r}")
        if len(sets) > 1:
            codes = ", ".join(f"{s.code} ({s.owner or 'shared'})" for s in sets)
            raise CommandError(f"{ref!r} names several sets: {codes}; give the code")
        return sets[0]

    def _fields(self, options: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for option, name in (
            ("source", "source"),
            ("description", "description"),
            ("trust", "trust"),
            ("default_verdict", "default_verdict"),
            ("profile", "category_profile"),
            ("threshold", "pdq_threshold"),
            ("review", "review_required"),
            ("audience", "audience"),
            ("name", "name"),
            ("active", "active"),
        ):
            if options.get(option) is not None:
                fields[name] = options[option]
        if options.get("category"):
            try:
                fields["category_verdicts"] = parse_category_map(options["category"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        return fields

    def _show(self, hash_set: HashSet, entries: int | None = None) -> str:
        owner = hash_set.owner.name if hash_set.owner else f"shared ({hash_set.audience})"
        count = "" if entries is None else f"  {entries:,} entries"
        review = ", analyst reviews" if hash_set.review_required else ""
        state = "" if hash_set.active else "  [inactive]"
        return (
            f"{hash_set.code}  {hash_set.name}  [{owner}]  {hash_set.trust}{review}, "
            f"verdict {hash_set.default_verdict}, PDQ <= {hash_set.pdq_threshold}"
            f"{count}{state}"
        )

    # ------------------------------------------------------------------ sets

    def handle_list(self, options: dict[str, Any]) -> None:
        sets = HashSet.objects.select_related("owner").annotate(count=Count("entries"))
        if options.get("hotline"):
            hotline = self._hotline(options["hotline"])
            sets = sets.filter(Q(owner=hotline) | Q(owner__isnull=True))
        shown = 0
        for hash_set in sets.order_by("owner__name", "name"):
            self.stdout.write(self._show(hash_set, hash_set.count))
            shown += 1
        if not shown:
            self.stdout.write("no hash sets yet (`openhotline hashset create NAME --shared`)")

    def handle_create(self, options: dict[str, Any]) -> None:
        owner = None if options["shared"] else self._hotline(options["hotline"])
        fields = self._fields(options)
        fields.pop("name")  # the positional NAME, not a change
        hash_set = do_create_set(options["name"], owner=owner, **fields)
        self.stdout.write(f"created {self._show(hash_set)}")

    def handle_update(self, options: dict[str, Any]) -> None:
        fields = self._fields(options)
        if not fields:
            raise CommandError("nothing to change")
        hash_set = do_update_set(self._set(options), **fields)
        self.stdout.write(f"updated {self._show(hash_set)}")

    def handle_delete(self, options: dict[str, Any]) -> None:
        hash_set = self._set(options)
        count = do_delete_set(hash_set)
        self.stdout.write(f"deleted {hash_set.name} and its {count:,} entries")

    # ------------------------------------------------------------------ files

    def handle_import(self, options: dict[str, Any]) -> None:
        hash_set = self._set(options)
        path = Path(options["file"])
        actor = None
        if options.get("username"):
            actor = User.objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"no user named {options['username']!r}")
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        with handle:
            format = options["format"]
            if format == "auto":
                format = detect_format(path.name, handle.read(4096))
                handle.seek(0)
            size = path.stat().st_size
            progress = ProgressLine(self.stderr, size, not options["no_progress"])
            try:
                report = do_import(
                    hash_set,
                    handle,
                    file_name=path.name,
                    format=format,
                    options=ReadOptions(hash64_as=options["hash64"], kind=options["kind"]),
                    actor=actor,
                    dry_run=options["dry_run"],
                    max_rejections=options["max_rejections"],
                    progress=progress,
                )
            except ImportFailed as exc:
                progress.done()
                self._rejections(path.name, exc.report)
                raise CommandError(
                    f"{path.name}: {exc.report.error}; import report {exc.report.code}"
                ) from None
            progress.done()
        self._rejections(path.name, report)
        verb = "would add" if options["dry_run"] else "added"
        self.stdout.write(
            f"{path.name} ({format}): {verb} {report.added:,} entries to {hash_set.name}, "
            f"{report.duplicates:,} already there, {report.rejected:,} refused; "
            f"import report {report.code}"
        )
        if report.error:
            self.stderr.write(report.error)

    def _rejections(self, name: str, report: ImportReport) -> None:
        for rejection in report.rejections.all()[:SHOWN_REJECTIONS]:
            self.stderr.write(f"{name}:{rejection.line}: {rejection.reason}")
        if report.rejected > SHOWN_REJECTIONS:
            self.stderr.write(
                f"… and {report.rejected - SHOWN_REJECTIONS:,} more "
                f"(`openhotline hashset report {report.code}`)"
            )

    def handle_export(self, options: dict[str, Any]) -> None:
        hash_set = self._set(options)
        if options["format"] == "list" and not options["kind"]:
            raise CommandError("a plain list holds one kind of hash: give --kind")
        if options["out"]:
            with open(options["out"], "w", encoding="utf-8", newline="\n") as out:
                result = export_set(hash_set, out, options["format"], kind=options["kind"])
        else:
            result = export_set(hash_set, sys.stdout, options["format"], kind=options["kind"])
        skipped = f" ({result.skipped:,} entries have no place in this format)"
        self.stderr.write(
            f"wrote {result.written:,} entries of {hash_set.name}"
            f"{skipped if result.skipped else ''}"
        )

    def handle_report(self, options: dict[str, Any]) -> None:
        if not options.get("code"):
            for report in ImportReport.objects.select_related("hash_set")[:20]:
                self.stdout.write(
                    f"{report.code}  {report.started_at:%Y-%m-%d %H:%M}  {report.state}  "
                    f"{report.hash_set.name} <- {report.file_name}: {report.added:,} added, "
                    f"{report.rejected:,} refused"
                )
            return
        found = ImportReport.objects.filter(code=options["code"].upper()).first()
        if found is None:
            raise CommandError(f"no import report {options['code']!r}")
        report = found
        self.stdout.write(
            f"{report.code}: {report.file_name} ({report.format}) into {report.hash_set.name}, "
            f"{report.state}: {report.records:,} records, {report.added:,} added, "
            f"{report.duplicates:,} duplicates, {report.rejected:,} refused"
        )
        if report.error:
            self.stdout.write(report.error)
        for rejection in report.rejections.all().iterator():
            self.stdout.write(f"{report.file_name}:{rejection.line}: {rejection.reason}")
        kept = report.rejections.count()
        if kept < report.rejected:
            self.stdout.write(f"(the first {kept:,} refused records were kept)")

    # ------------------------------------------------------------------ the index

    def handle_sync_index(self, options: dict[str, Any]) -> None:
        applied = catch_up()
        self.stdout.write(f"applied {applied:,} changes; the index is at serial {local_serial()}")

    def handle_snapshot_index(self, options: dict[str, Any]) -> None:
        for kind, serial in write_snapshots().items():
            self.stdout.write(f"{kind}: snapshot stored at serial {serial}")

    def handle_check_index(self, options: dict[str, Any]) -> None:
        broken = False
        for check in check_indexes():
            self.stdout.write(
                f"{check.kind}: {check.expected:,} hashes expected, {len(check.missing):,} "
                f"missing, {check.pending:,} entries pending, {check.stale:,} stale ids"
            )
            if check.missing:
                broken = True
                shown = ", ".join(str(i) for i in check.missing[:20])
                self.stderr.write(f"{check.kind}: entries missing from the index: {shown}")
        if broken:
            raise CommandError("the index lacks entries: run `openhotline hashset rebuild-index`")

    def handle_rebuild_index(self, options: dict[str, Any]) -> None:
        started = time.monotonic()
        results = rebuild_indexes(grace=options.get("grace"))
        for kind, result in results.items():
            self.stdout.write(
                f"{kind}: generation {result.generation}, {result.entries:,} hashes "
                f"(up to change {result.serial}; later ones applied since)"
            )
        self.stdout.write(f"rebuilt in {time.monotonic() - started:.1f} s")
