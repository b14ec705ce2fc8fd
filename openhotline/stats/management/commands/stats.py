from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openhotline.assessment.models import ItemStatus
from openhotline.reports.models import Report, ReportedUrl
from openhotline.stats.actions import do_rebuild_facts
from openhotline.stats.models import ItemFact, ReportFact, UrlFact
from openhotline.stats.rebuild import CHUNK


class Command(BaseCommand):
    help = (
        "Statistics: `rebuild [--chunk N]` recomputes the facts the dashboards read; "
        "`check` compares their number with the working tables (exit status 1 if they differ)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        rebuild = sub.add_parser("rebuild", help="recompute every fact")
        rebuild.add_argument("--chunk", type=int, default=CHUNK, help="source rows per transaction")
        sub.add_parser("check", help="count facts against their sources")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "rebuild":
            written = do_rebuild_facts(chunk=max(1, options["chunk"]))
            for table, count in written.items():
                self.stdout.write(f"{table}: {count} rows")
            return
        differ = False
        for label, source, facts in (
            ("reported URLs", ReportedUrl, UrlFact),
            ("reports", Report, ReportFact),
            ("item statuses", ItemStatus, ItemFact),
        ):
            have, want = facts.objects.count(), source.objects.count()
            differ |= have != want
            mark = "ok" if have == want else "DIFFERS: run `openhotline stats rebuild`"
            self.stdout.write(f"{label}: {want} rows, {have} facts  {mark}")
        if differ:
            raise SystemExit(1)
