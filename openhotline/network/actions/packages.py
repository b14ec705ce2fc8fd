"""Incremental, encrypted download packages for police and INTERPOL.

A package is a ZIP encrypted with AES-256 (WinZip AE-2, which 7-Zip, WinZip,
Griffeye and Python's ``pyzipper`` open) under a random password that is
shown once and never stored. It holds the media, ``manifest.vics.json``
(VICS 2.0) and ``items.csv``. Each media item goes to an organisation once:
the next package holds only what became visible since.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from datetime import timedelta
from typing import IO

import pyzipper
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import User
from openhotline.audit.log import record
from openhotline.evidence.store import get_store
from openhotline.network.lea_access import LeaSeat, items_for
from openhotline.network.manifest import (
    ManifestItem,
    attach_sources,
    items_csv,
    merge_item,
    vics_manifest,
)
from openhotline.network.models import Delivery, LeaItem, Package

# Words a person can read out over the phone: 6 groups of 5 from an unambiguous alphabet.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet, not a password


def new_password() -> str:
    """About 150 random bits, in groups that are easy to copy by hand."""
    chars = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(30))
    return "-".join(chars[i : i + 5] for i in range(0, 30, 5))


def undelivered(seat: LeaSeat) -> list[ManifestItem]:
    """The items the seat may see and has not been given yet, oldest first, capped."""
    delivered = Delivery.objects.filter(organisation=seat.organisation).values("media_item_id")
    rows = (
        items_for(seat)
        .exclude(media_item_id__in=delivered)
        .select_related("media_item", "hotline", "classification")
        .order_by("first_in_force_at", "pk")
    )
    items: dict[int, ManifestItem] = {}
    limit = settings.OPENHOTLINE_LEA_PACKAGE_MAX_ITEMS
    lea_item: LeaItem
    for lea_item in rows.iterator():
        if lea_item.media_item_id not in items and len(items) >= limit:
            continue
        merge_item(
            items,
            lea_item.media_item,
            verdict=lea_item.verdict,
            is_virtual=lea_item.is_virtual,
            classified_at=lea_item.classification.created_at,
            hotline=lea_item.hotline.name,
            country=lea_item.hosting_country,
        )
    return attach_sources(items)


def write_zip(out: IO[bytes], items: list[ManifestItem], password: str, case_number: str) -> None:
    """Write the encrypted ZIP of ``items`` to ``out`` (media read from the store one by one)."""
    store = get_store()
    with pyzipper.AESZipFile(
        out, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        for item in items:
            # Media are compressed already: stored as they are, only encrypted.
            archive.writestr(
                item.file_name,
                store.get(item.media.blob.name),
                compress_type=pyzipper.ZIP_STORED,
            )
        archive.writestr("manifest.vics.json", vics_manifest(items, case_number=case_number))
        archive.writestr("items.csv", items_csv(items))


def do_create_package(seat: LeaSeat, *, actor: User) -> tuple[Package, str] | None:
    """Build the next package for the seat's organisation; None when nothing is new.

    1. Take what the organisation may see and was not given yet (capped at
       ``OPENHOTLINE_LEA_PACKAGE_MAX_ITEMS``; the rest comes next time).
    2. Write the encrypted ZIP to a temporary file, then into the
       (encrypted) evidence store until it expires.
    3. Record the package and mark its items delivered, with the audit event.
    4. Return the package and its password, which is not kept anywhere.
    """
    items = undelivered(seat)
    if not items:
        return None
    password = new_password()
    package = Package(
        organisation=seat.organisation,
        created_by=actor,
        expires_at=timezone.now() + timedelta(hours=settings.OPENHOTLINE_LEA_PACKAGE_HOURS),
    )
    with tempfile.TemporaryFile() as spool:
        write_zip(spool, items, password, package.code)
        package.size = spool.tell()
        spool.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: spool.read(1024 * 1024), b""):
            digest.update(chunk)
        spool.seek(0)
        ref = get_store().put(spool)
    package.blob_name, package.sha256 = ref.name, digest.hexdigest()
    with transaction.atomic():
        package.item_count = len(items)
        package.save()
        Delivery.objects.bulk_create(
            [
                Delivery(organisation=seat.organisation, media_item=item.media, package=package)
                for item in items
            ],
            ignore_conflicts=True,
        )
        record(
            "lea.package_created",
            actor=actor,
            organisation=seat.organisation,
            obj=package,
            detail={"items": len(items), "sha256": package.sha256, "size": package.size},
        )
    return package, password


def do_record_download(package: Package, *, actor: User) -> None:
    with transaction.atomic():
        package.downloads += 1
        package.last_downloaded_at = timezone.now()
        package.save(update_fields=["downloads", "last_downloaded_at"])
        record(
            "lea.package_downloaded",
            actor=actor,
            organisation=package.organisation,
            obj=package,
            detail={"items": package.item_count, "sha256": package.sha256},
        )


def do_purge_expired_packages() -> int:
    """Delete the ZIPs of expired packages from the store; the records stay."""
    now = timezone.now()
    purged = 0
    for package in Package.objects.filter(expires_at__lte=now, purged_at__isnull=True):
        if package.blob_name:
            get_store().delete(package.blob_name)
        package.purged_at = now
        package.save(update_fields=["purged_at"])
        purged += 1
    return purged
