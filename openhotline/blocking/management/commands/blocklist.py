from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.accounts.models import Organisation, User
from openhotline.blocking.access import only_hotline
from openhotline.blocking.actions.entries import BlocklistError, do_approve_all, do_import_entries
from openhotline.blocking.actions.publishing import do_publish, do_rollback
from openhotline.blocking.exportfiles import write_version
from openhotline.blocking.exports import ACTIONS, FORMATS, ExportError, ExportOptions
from openhotline.blocking.importing import ImportFormatError, read_list
from openhotline.blocking.models import BlocklistEntry, EntryState
from openhotline.blocking.versions import current_publication


class Command(BaseCommand):
    help = (
        "The blocklist: `import FILE --source NAME`, `approve --all --as USERNAME`, "
        "`publish`, `rollback --to SERIAL --as USERNAME`, `export --format F [--out FILE]`, "
        "`status`. Each takes --hotline SLUG (default: the only hotline)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        imp = sub.add_parser("import", help="propose the entries of a CSV or JSON list")
        imp.add_argument("file", help="CSV with header value,kind,reason; or JSON")
        imp.add_argument("--source", required=True, help="name of the list's source")
        imp.add_argument("--as", dest="username", help="the proposer (default: the source)")
        approve = sub.add_parser("approve", help="approve proposals as a senior analyst")
        approve.add_argument("--all", action="store_true", required=True)
        approve.add_argument("--as", dest="username", required=True)
        publish = sub.add_parser("publish", help="run the guards and publish a new version")
        publish.add_argument("--as", dest="username")
        publish.add_argument(
            "--override",
            action="store_true",
            help="a senior analyst (--as) accepts a change over the share limit",
        )
        rollback = sub.add_parser("rollback", help="publish an earlier version again")
        rollback.add_argument("--to", type=int, required=True, dest="serial")
        rollback.add_argument("--as", dest="username", required=True)
        export = sub.add_parser("export", help="write the live version in a format")
        export.add_argument("--format", required=True, choices=FORMATS)
        export.add_argument("--out", help="file to write (default: standard output)")
        export.add_argument("--action", choices=ACTIONS, help="DNS action (default: setting)")
        sub.add_parser("status", help="versions and entries by state")
        for each in (imp, approve, publish, rollback, export, sub.choices["status"]):
            each.add_argument("--hotline", help="slug of the hotline (default: the only one)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            hotline = only_hotline(options.get("hotline"))
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        try:
            getattr(self, f"handle_{options['subcommand']}")(hotline, options)
        except (BlocklistError, ExportError, ImportFormatError) as exc:
            raise CommandError(str(exc)) from None

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        return user

    def handle_import(self, hotline: Organisation, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        with handle:
            result = do_import_entries(
                hotline,
                read_list(handle, name=path.name),
                source_name=options["source"],
                actor=self._user(options["username"]),
            )
        for problem in result.problems[:50]:
            self.stderr.write(f"{path.name}:{problem.line}: {problem.message}")
        if len(result.problems) > 50:
            self.stderr.write(f"… and {len(result.problems) - 50} more problems")
        self.stdout.write(
            f"proposed {result.created} entries from {options['source']} "
            f"({result.already_listed} already listed, {len(result.problems)} refused)"
        )

    def _actor(self, username: str | None) -> User:
        user = self._user(username)
        if user is None:
            raise CommandError("--as USERNAME is required")
        return user

    def handle_approve(self, hotline: Organisation, options: dict[str, Any]) -> None:
        user = self._actor(options["username"])
        result = do_approve_all(hotline, actor=user)
        skipped = (
            f"; {result.skipped} skipped: {user.username} proposed them (four-eyes)"
            if result.skipped
            else ""
        )
        self.stdout.write(
            f"approved {result.approved} entries and {result.delistings} delistings "
            f"as {user.username}{skipped}"
        )

    def handle_publish(self, hotline: Organisation, options: dict[str, Any]) -> None:
        outcome = do_publish(
            hotline, actor=self._user(options["username"]), override=options["override"]
        )
        if outcome.publication is None:  # do_publish returns a version or raises
            raise CommandError("no version was published")
        if not outcome.created:
            self.stdout.write(f"nothing changed; version {outcome.publication.serial} stays live")
            return
        self.stdout.write(
            f"published version {outcome.publication.serial}: "
            f"{outcome.publication.entry_count} entries "
            f"(+{outcome.added} -{outcome.removed})"
        )

    def handle_rollback(self, hotline: Organisation, options: dict[str, Any]) -> None:
        outcome = do_rollback(hotline, options["serial"], actor=self._actor(options["username"]))
        if outcome.publication is None:
            raise CommandError(f"version {options['serial']} was not restored")
        self.stdout.write(
            f"published version {outcome.publication.serial}, restoring version "
            f"{options['serial']}: {outcome.publication.entry_count} entries"
        )

    def handle_export(self, hotline: Organisation, options: dict[str, Any]) -> None:
        publication = current_publication(hotline)
        if publication is None:
            raise CommandError("nothing has been published yet (`openhotline blocklist publish`)")
        export_options = ExportOptions.from_settings(options["action"])
        export_options.check(options["format"])
        if options["out"]:
            with open(options["out"], "w", encoding="utf-8", newline="\n") as out:
                write_version(options["format"], out, hotline, publication, export_options)
            self.stderr.write(f"wrote version {publication.serial} to {options['out']}")
        else:
            write_version(options["format"], sys.stdout, hotline, publication, export_options)

    def handle_status(self, hotline: Organisation, options: dict[str, Any]) -> None:
        publication = current_publication(hotline)
        live = f"version {publication.serial}" if publication else "nothing published"
        self.stdout.write(f"{hotline.name}: {live}")
        for state in EntryState:
            count = BlocklistEntry.objects.filter(hotline=hotline, state=state).count()
            self.stdout.write(f"  {state.value}: {count}")
