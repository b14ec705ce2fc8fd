from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.accounts.models import Organisation
from openhotline.lib.hashlist import normalize_hash
from openhotline.matching.access import sets_visible_to
from openhotline.matching.filehashes import hash_file
from openhotline.matching.lookup import Found, Query, find_matches, found_json
from openhotline.matching.models import HashSet


class Command(BaseCommand):
    help = (
        "Look files (or a PDQ hash) up in the hash sets: every match with its set, entry and "
        "integer distance. --json prints one JSON object per file. --org limits the sets "
        "to those an organisation may see."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", metavar="FILE")
        parser.add_argument("--pdq", help="a PDQ hash (64 hex characters) instead of files")
        parser.add_argument("--json", action="store_true", help="one JSON object a line")
        parser.add_argument("--org", help="slug of the organisation whose sets to use")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["files"]) == bool(options["pdq"]):
            raise CommandError("give files, or --pdq HEX")
        sets = HashSet.objects.all()
        if options["org"]:
            organisation = Organisation.objects.filter(slug=options["org"]).first()
            if organisation is None:
                raise CommandError(f"no organisation with the slug {options['org']!r}")
            sets = sets_visible_to(organisation)
        if options["pdq"]:
            try:
                pdq = normalize_hash("pdq", options["pdq"])
            except ValueError as exc:
                raise CommandError(f"--pdq: {exc}") from None
            found = find_matches(Query(pdq=(pdq,)), sets)
            self._print({"pdq": pdq}, found, options["json"])
            return
        unreadable = 0
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                unreadable += 1
                self._print({"path": name, "error": "no such file"}, [], options["json"])
                continue
            hashes = hash_file(path)
            found = find_matches(hashes.query(), sets)
            self._print({"path": name, "hashes": hashes.to_json()}, found, options["json"])
        if unreadable:
            raise CommandError(f"{unreadable} of {len(options['files'])} files could not be read")

    def _print(self, head: dict[str, Any], found: list[Found], as_json: bool) -> None:
        if as_json:
            matches = [found_json(f, metadata=True) for f in found]
            self.stdout.write(json.dumps({**head, "matches": matches}))
            return
        label = head.get("path") or head.get("pdq")
        if "error" in head:
            self.stdout.write(f"{label}: {head['error']}")
        elif not found:
            self.stdout.write(f"{label}: no match")
        for f in found:
            entry = f.entry
            self.stdout.write(
                f"{label}: {entry.hash_set.name} ({entry.hash_set.code}), {f.kind} distance "
                f"{f.distance}, verdict {entry.hash_set.verdict_for(entry)}"
            )
