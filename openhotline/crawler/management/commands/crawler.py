"""``openhotline crawler data …``: the hosting data the trace uses, loaded from files.

    openhotline crawler data update cdn PROVIDER FILE [FILE …]   ("-": stdin)
    openhotline crawler data update asn FILE [FILE …]     (ip2asn TSV, or one ASN .mmdb)
    openhotline crawler data update geo FILE.mmdb         (a country or city .mmdb)
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

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.crawler.geofiles import is_mmdb, update_mmdb
from openhotline.crawler.hostingdata import (
    PROVIDERS,
    STALE_DAYS,
    HostingDataError,
    update_asn,
    update_cdn,
)
from openhotline.crawler.hostingstatus import every_dataset


class Command(BaseCommand):
    help = "The crawler's hosting data: load CDN ranges, AS and geo data, show their dates."

    def add_arguments(self, parser: CommandParser) -> None:
        areas = parser.add_subparsers(dest="area", required=True)
        data = areas.add_parser("data", help="CDN ranges, AS and geo data")
        actions = data.add_subparsers(dest="action", required=True)
        update = actions.add_parser("update", help="load data sets from files")
        kinds = update.add_subparsers(dest="kind", required=True)
        cdn = kinds.add_parser("cdn", help="a CDN's published ranges")
        cdn.add_argument("provider", choices=sorted(PROVIDERS))
        cdn.add_argument("files", nargs="+", help="the provider's published files; - for stdin")
        asn = kinds.add_parser(
            "asn", help="iptoasn.com's ip2asn TSV (v4, v6 or combined), or an ASN .mmdb"
        )
        asn.add_argument("files", nargs="+", help="TSV files, or one .mmdb; - for stdin")
        geo = kinds.add_parser("geo", help="a country or city .mmdb (GeoLite2, DB-IP Lite)")
        geo.add_argument("files", nargs=1, metavar="file", help="the .mmdb file; - for stdin")
        show = actions.add_parser("show", help="each data set, its date and origin")
        show.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "show":
            self._show(options["json"])
            return
        files = [_read(name) for name in options["files"]]
        try:
            if options["kind"] == "cdn":
                provider = update_cdn(options["provider"], [_text(f) for f in files])
                self.stdout.write(
                    f"{provider.name}: {len(provider.networks)} networks, as of {provider.as_of}"
                )
            elif options["kind"] == "geo" or any(is_mmdb(data) for _, data in files):
                if len(files) != 1:
                    raise HostingDataError("give one .mmdb file, alone")
                label, data = files[0]
                mmdb = update_mmdb(options["kind"], label, data)
                self.stdout.write(f"{options['kind']}: {mmdb.source}")
            else:
                dataset = update_asn([_text(f) for f in files])
                self.stdout.write(f"IP-to-AS table: {dataset.ranges} ranges, as of {dataset.as_of}")
        except HostingDataError as exc:
            raise CommandError(f"nothing loaded: {exc}") from None

    def _show(self, as_json: bool) -> None:
        status = every_dataset()
        if as_json:
            self.stdout.write(json.dumps([s.as_json() for s in status], indent=2))
            return
        for item in status:
            warning = ""
            if item.stale:
                warning = f"  OLDER THAN {STALE_DAYS} DAYS" if item.as_of else "  OF NO KNOWN DATE"
            self.stdout.write(f"{item.name}: {item.origin}, as of {item.as_of or '-'}{warning}")


def _read(name: str) -> tuple[str, bytes]:
    if name == "-":
        return "stdin", sys.stdin.buffer.read()
    try:
        with open(name, "rb") as fh:
            return name, fh.read()
    except OSError as exc:
        raise CommandError(f"nothing loaded: {name}: {exc.strerror}") from None


def _text(file: tuple[str, bytes]) -> tuple[str, str]:
    label, data = file
    try:
        return label, data.decode("utf-8")
    except UnicodeDecodeError:
        raise HostingDataError(f"{label}: not UTF-8 text") from None
