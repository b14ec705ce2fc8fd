from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.matching.filehashes import hash_file


class Command(BaseCommand):
    help = (
        "Hash files: MD5, SHA-1, SHA-256, and PDQ with its quality for images or the vPDQ "
        "frame hashes for videos. --json prints one JSON object per file, a line each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help="one JSON object a line")

    def handle(self, *args: Any, **options: Any) -> None:
        unreadable = 0
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                unreadable += 1
                data: dict[str, Any] = {"path": name, "error": "no such file"}
            else:
                try:
                    data = {"path": name, **hash_file(path).to_json()}
                except OSError as exc:
                    unreadable += 1
                    data = {"path": name, "error": exc.strerror or str(exc)}
            self.stdout.write(json.dumps(data) if options["json"] else _line(data))
        if unreadable:
            raise CommandError(f"{unreadable} of {len(options['files'])} files could not be read")


def _line(data: dict[str, Any]) -> str:
    if "sha256" not in data:
        return f"{data['path']}: {data['error']}"
    parts = [data["path"], f"sha256 {data['sha256']}", f"md5 {data['md5']}"]
    if data.get("pdq"):
        parts.append(f"pdq {data['pdq']} (quality {data['pdq_quality']})")
    if data.get("vpdq") is not None:
        parts.append(f"vpdq {len(data['vpdq'])} frames")
    if data.get("error"):
        parts.append(f"error: {data['error']}")
    return "  ".join(parts)
