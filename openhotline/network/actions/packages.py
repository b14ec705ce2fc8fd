"""Incremental, encrypted download packages for police and INTERPOL.

A package is a ZIP encrypted with AES-256 (WinZip AE-2, which 7-Zip, WinZip,
Griffeye and Python's ``pyzipper`` open) under a random password that is
shown once and never stored; or, for an officer who registered an age public
key, a plain ZIP encrypted with age (X25519, ``pyrage``) to that key alone,
with no password at all. It holds the media, ``manifest.vics.json``
(VICS 2.0) and ``items.csv``. Each media item goes to an organisation once:
the next package holds only what became visible since.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
import zipfile
from datetime import timedelta
from typing import IO

import pyrage
import pyzipper
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from openhotline.accounts.models import User
from openhotline.audit.log import record
from openhotline.evidence.models import UrlMedia
from openhotline.evidence.store import get_store
from openhotline.matching.models import Match
from openhotline.network.lea_access import LeaSeat, items_for
from openhotline.network.manifest import (
    ManifestItem,
    attach_sources,
    items_csv,
    merge_item,
    vics_manifest,
)
from openhotline.network.models import (
    Delivery,
    LeaItem,
    OfficerProfile,
    Package,
    PackageEncryption,
)

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


def attach_police_facts(items: list[ManifestItem]) -> list[ManifestItem]:
    """Series from hash-set matches and victims identified by the police (two queries)."""
    by_pk = {item.media.pk: item for item in items}
    matches = Match.objects.filter(media_item_id__in=by_pk).exclude(
        entry__source_media_id=F("media_item_id")
    )
    for media_id, metadata in matches.values_list("media_item_id", "entry__metadata"):
        name = metadata.get("series") if isinstance(metadata, dict) else None
        if isinstance(name, str) and name.strip() and name.strip() not in by_pk[media_id].series:
            by_pk[media_id].series.append(name.strip())
    identified = UrlMedia.objects.filter(
        media_item_id__in=by_pk,
        reported_url__police_referrals__victim_identified_at__isnull=False,
    ).values_list("media_item_id", flat=True)
    for media_id in identified:
        by_pk[media_id].victim_identified = True
    return items


def _write_members(
    archive: zipfile.ZipFile, items: list[ManifestItem], case_number: str, contact_email: str
) -> None:
    store = get_store()
    for item in items:
        # Media are compressed already: stored as they are, only encrypted.
        archive.writestr(
            item.file_name,
            store.get(item.media.blob.name),
            compress_type=zipfile.ZIP_STORED,
        )
    archive.writestr(
        "manifest.vics.json",
        vics_manifest(items, case_number=case_number, contact_email=contact_email),
    )
    archive.writestr("items.csv", items_csv(items))


def write_zip(
    out: IO[bytes],
    items: list[ManifestItem],
    password: str,
    case_number: str,
    contact_email: str = "",
) -> None:
    """Write the encrypted ZIP of ``items`` to ``out`` (media read from the store one by one)."""
    with pyzipper.AESZipFile(
        out, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        _write_members(archive, items, case_number, contact_email)


def write_age(
    out: IO[bytes], items: list[ManifestItem], recipient: str, case_number: str, contact_email: str
) -> None:
    """Write a plain ZIP of ``items`` encrypted with age to ``recipient`` (one X25519 key)."""
    with tempfile.TemporaryFile() as plain:
        with zipfile.ZipFile(plain, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_members(archive, items, case_number, contact_email)
        plain.seek(0)
        pyrage.encrypt_io(plain, out, [pyrage.x25519.Recipient.from_str(recipient)])


class PackageRefused(ValueError):
    """The package cannot be made as asked (no age key registered)."""


def do_create_package(
    seat: LeaSeat, *, actor: User, to_age_key: bool = False
) -> tuple[Package, str] | None:
    """Build the next package for the seat's organisation; None when nothing is new.

    1. Take what the organisation may see and was not given yet (capped at
       ``OPENHOTLINE_LEA_PACKAGE_MAX_ITEMS``; the rest comes next time).
    2. Write the encrypted ZIP (or the age file, ``to_age_key``) to a
       temporary file, then into the (encrypted) evidence store until it
       expires.
    3. Record the package and mark its items delivered, with the audit event.
    4. Return the package and its password (empty for age), which is not kept.
    """
    recipient = ""
    if to_age_key:
        profile = OfficerProfile.objects.filter(user=actor).first()
        recipient = profile.age_recipient if profile is not None else ""
        if not recipient:
            raise PackageRefused(gettext("Register your age public key first."))
    items = undelivered(seat)
    if not items:
        return None
    attach_police_facts(items)
    password = "" if recipient else new_password()
    package = Package(
        organisation=seat.organisation,
        created_by=actor,
        encryption=PackageEncryption.AGE if recipient else PackageEncryption.PASSWORD,
        age_recipient=recipient,
        expires_at=timezone.now() + timedelta(hours=settings.OPENHOTLINE_LEA_PACKAGE_HOURS),
    )
    contact = seat.organisation.contact_email or actor.email
    with tempfile.TemporaryFile() as spool:
        if recipient:
            write_age(spool, items, recipient, package.code, contact)
        else:
            write_zip(spool, items, password, package.code, contact)
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
            detail={
                "items": len(items),
                "sha256": package.sha256,
                "size": package.size,
                "encryption": package.encryption,
                "age_recipient": recipient,
            },
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
