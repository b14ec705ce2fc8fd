"""Export files of published versions, built once and served many times.

A version never changes, so its export in one format with one set of options is
a file that every provider fetch can share: built on first use (or by the task
queued at publication), written to a temporary name and renamed into place, so a
reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import TextIO

from django.conf import settings

from openhotline.accounts.models import Organisation
from openhotline.blocking.exports import (
    FORMAT_REVISION,
    ExportOptions,
    ListInfo,
    csv_field,
    write_export,
)
from openhotline.blocking.models import EntryKind, Publication
from openhotline.blocking.versions import VersionDiff, rows_at, spans_at

EXTENSIONS = {
    "rpz": "rpz",
    "hosts": "hosts",
    "unbound": "conf",
    "dnsmasq": "conf",
    "csv": "csv",
    "json": "json",
    "squid": "acl",
}
# Versions whose files are kept besides the newest (providers catching up).
KEEP_VERSIONS = 3


def list_info(hotline: Organisation, publication: Publication) -> ListInfo:
    return ListInfo(
        hotline=hotline.name,
        serial=publication.serial,
        published_at=publication.created_at,
        entries=publication.entry_count,
        url_entries=spans_at(hotline, publication.serial).filter(entry__kind=EntryKind.URL).count(),
    )


def write_version(
    fmt: str,
    out: TextIO,
    hotline: Organisation,
    publication: Publication,
    options: ExportOptions,
) -> None:
    write_export(
        fmt, out, rows_at(hotline, publication.serial), list_info(hotline, publication), options
    )


def export_dir(hotline: Organisation) -> Path:
    return Path(settings.DATA_DIR) / "blocklist" / hotline.slug


def export_path(
    hotline: Organisation, publication: Publication, fmt: str, options: ExportOptions
) -> Path:
    # The options are part of the name: a changed stop-page address is a new file;
    # so is the format's revision, so an upgrade never serves a file built before it.
    fingerprint = hashlib.sha256(repr((FORMAT_REVISION, options)).encode()).hexdigest()[:12]
    return export_dir(hotline) / f"v{publication.serial}-{fingerprint}.{fmt}.{EXTENSIONS[fmt]}"


def ensure_export(
    hotline: Organisation, publication: Publication, fmt: str, options: ExportOptions
) -> Path:
    """The file of this version in this format, built now if it is not there yet."""
    options.check(fmt)
    path = export_path(hotline, publication, fmt, options)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".building-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            write_version(fmt, handle, hotline, publication, options)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    prune_exports(hotline, publication.serial)
    return path


def prune_exports(hotline: Organisation, newest: int) -> None:
    for path in export_dir(hotline).glob("v*-*"):
        try:
            serial = int(path.name[1:].split("-", 1)[0])
        except ValueError:
            continue
        if serial <= newest - KEEP_VERSIONS:
            path.unlink(missing_ok=True)


def diff_document(fmt: str, diff: VersionDiff, hotline: Organisation) -> str:
    """The entries added and removed between two versions, as CSV or JSON."""
    out = io.StringIO()
    if fmt == "csv":
        out.write("change,kind,value,host,code\n")
        for change, rows in (("added", diff.added), ("removed", diff.removed)):
            for kind, host, value, code in rows:
                out.write(f"{change},{kind},{csv_field(value)},{host},{code}\n")
        return out.getvalue()

    def items(rows: list[tuple[str, str, str, str]]) -> list[dict[str, str]]:
        return [{"kind": k, "value": v, "host": h, "code": c} for k, h, v, c in rows]

    return json.dumps(
        {
            "hotline": hotline.name,
            "since": diff.since,
            "version": diff.serial,
            "added": items(diff.added),
            "removed": items(diff.removed),
        }
    )
