"""The encrypted media package a sender gives a peer that asked for a forwarded URL's media.

A ZIP holding ``manifest.json`` and one member per item, named by its
SHA-256, encrypted with age to the requesting installation's Ed25519 key as
an ``ssh-ed25519`` recipient (``identity.age_recipient``; the same format as
the police packages, which use an X25519 recipient). The manifest:

    {"version": 1, "reference": "<sender's URL code>", "request": "<request code>",
     "items": [{"file": "<sha256>", "sha256": "…", "md5": "…", "mime": "image/png",
                "size": 1234, "verdict": "baseline"}]}

Reading checks what a hostile package could do: too many members, members
larger than the limit (read with a bound, not from the ZIP's own header),
a member whose bytes do not hash to its name.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pyrage

MANIFEST = "manifest.json"
MAX_ITEMS = 1000
ALLOWED_MIME_PREFIXES = ("image/", "video/")


class PackageError(ValueError):
    """A package that cannot be opened or does not hold what its manifest says."""


@dataclass
class PackedItem:
    sha256: str
    md5: str
    mime: str
    verdict: str
    data: bytes


def seal(
    items: list[PackedItem], *, reference: str, request: str, recipient: pyrage.ssh.Recipient
) -> bytes:
    """The age-encrypted ZIP of ``items`` for ``recipient``."""
    manifest = {
        "version": 1,
        "reference": reference,
        "request": request,
        "items": [
            {
                "file": item.sha256,
                "sha256": item.sha256,
                "md5": item.md5,
                "mime": item.mime,
                "size": len(item.data),
                "verdict": item.verdict,
            }
            for item in items
        ],
    }
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, sort_keys=True))
        for item in items:
            # Media are compressed already: stored as they are, only encrypted.
            archive.writestr(item.sha256, item.data, compress_type=zipfile.ZIP_STORED)
    return bytes(pyrage.encrypt(plain.getvalue(), [recipient]))


def _read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with archive.open(name) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise PackageError(f"{name} is larger than {limit} bytes")
    return data


def open_package(sealed: bytes, identity: pyrage.ssh.Identity, *, max_bytes: int) -> dict[str, Any]:
    """Decrypt and check a package; the manifest, with each item's ``data`` added.

    1. Decrypt with our identity (age authenticates the whole file).
    2. Read the manifest; at most ``MAX_ITEMS`` items, each named by a SHA-256.
    3. Read each member with a bound, and check its bytes hash to its name.
    """
    try:
        plain = pyrage.decrypt(sealed, [identity])
    except pyrage.DecryptError as exc:
        raise PackageError(f"the package does not open with our key: {exc}") from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(plain))
        manifest = json.loads(_read(archive, MANIFEST, 1024 * 1024))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise PackageError(f"the package is not a ZIP with a manifest: {exc}") from None
    entries = manifest.get("items") if isinstance(manifest, dict) else None
    if not isinstance(entries, list) or len(entries) > MAX_ITEMS:
        raise PackageError(f"the manifest lists no items, or more than {MAX_ITEMS}")
    items = []
    total = 0
    with archive:
        for entry in entries:
            sha256 = entry.get("sha256") if isinstance(entry, dict) else None
            if not isinstance(sha256, str) or len(sha256) != 64:
                raise PackageError("an item without a SHA-256")
            try:
                data = _read(archive, sha256, max_bytes - total)
            except KeyError:
                raise PackageError(f"item {sha256} is listed but not in the package") from None
            total += len(data)
            if hashlib.sha256(data).hexdigest() != sha256.lower():
                raise PackageError(f"item {sha256} does not hash to its name")
            mime = str(entry.get("mime") or "")
            items.append(
                PackedItem(
                    sha256=sha256.lower(),
                    md5=str(entry.get("md5") or "")[:32],
                    mime=mime
                    if mime.startswith(ALLOWED_MIME_PREFIXES)
                    else "application/octet-stream",
                    verdict=str(entry.get("verdict") or "")[:20],
                    data=data,
                )
            )
    return {
        "reference": manifest.get("reference"),
        "request": manifest.get("request"),
        "items": items,
    }
