"""``openhotline crawler data …``: the hosting data the trace uses, loaded from files.

    openhotline crawler data update cdn PROVIDER FILE [FILE …]   ("-": stdin)
    openhotline crawler data update asn FILE [FILE …]
    openhotline crawler data show [--json]

Nothing is downloaded: the operator fetches the providers' published files
(docs/crawler.md lists where) and gives them here. A file that does not
parse stops the command with one line naming the file and the place, and
the data loaded before stays as it was.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.crawler.hostingdata import (
    PROVIDERS,
    STALE_DAYS,
    HostingDataError,
    dataset_status,
    update_asn,
    update_cdn,
)


class Command(BaseCommand):
    help = "The crawler's hosting data: load CDN ranges and an IP-to-AS table, show their dates."

    def add_arguments(self, parser: CommandParser) -> None:
        areas = parser.add_subparsers(dest="area", required=True)
        data = areas.add_parser("data", help="CDN ranges and the IP-to-AS table")
        actions = data.add_subparsers(dest="action", required=True)
        update = actions.add_parser("update", help="load data sets from files")
        kinds = update.add_subparsers(dest="kind", required=True)
        cdn = kinds.add_parser("cdn", help="a CDN's published ranges")
        cdn.add_argument("provider", choices=sorted(PROVIDERS))
        cdn.add_argument("files", nargs="+", help="the provider's published files; - for stdin")
        asn = kinds.add_parser("asn", help="iptoasn.com's ip2asn TSV (v4, v6 or combined)")
        asn.add_argument("files", nargs="+", help="TSV files; - for stdin")
        show = actions.add_parser("show", help="each data set, its date and origin")
        show.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "show":
            self._show(options["json"])
            return
        files = [_read(name) for name in options["files"]]
        try:
            if options["kind"] == "cdn":
                provider = update_cdn(options["provider"], files)
                self.stdout.write(
                    f"{provider.name}: {len(provider.networks)} networks, as of {provider.as_of}"
                )
            else:
                dataset = update_asn(files)
                self.stdout.write(f"IP-to-AS table: {dataset.ranges} ranges, as of {dataset.as_of}")
        except HostingDataError as exc:
            raise CommandError(f"nothing loaded: {exc}") from None

    def _show(self, as_json: bool) -> None:
        status = dataset_status(settings.OPENHOTLINE_CDN_RANGES_DIR)
        if as_json:
            self.stdout.write(json.dumps([s.as_json() for s in status], indent=2))
            return
        for item in status:
            warning = f"  OLDER THAN {STALE_DAYS} DAYS" if item.stale and item.as_of else ""
            self.stdout.write(f"{item.name}: {item.origin}, as of {item.as_of or '-'}{warning}")


def _read(name: str) -> tuple[str, str]:
    if name == "-":
        return "stdin", sys.stdin.read()
    try:
        with open(name, encoding="utf-8") as fh:
            return name, fh.read()
    except OSError as exc:
        raise CommandError(f"nothing loaded: {name}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"nothing loaded: {name}: not UTF-8 text") from None
