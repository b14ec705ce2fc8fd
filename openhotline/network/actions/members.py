"""The member directory's edits, and the audit records of the law-enforcement API's reads.

The writes that used to sit in ``views.py`` and ``api.py``; the app's other
``do_*`` actions live beside this module, one per subject.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from openhotline.accounts.models import ApiKey, User
from openhotline.audit.log import record
from openhotline.evidence.models import MediaItem
from openhotline.network.lea_access import LeaSeat
from openhotline.network.models import MemberHotline


def do_update_member(member: MemberHotline, changes: dict[str, Any], *, actor: User) -> None:
    """Save a hotline admin's edit of its directory entry (``member`` holds the new values)."""
    with transaction.atomic():
        member.save()
        record(
            "network.member_updated",
            actor=actor,
            organisation=member.organisation,
            obj=member,
            detail={k: str(v) for k, v in changes.items()},
        )


def do_record_lea_api_read(
    seat: LeaSeat, key: ApiKey, action: str, *, since: str | None, count_key: str, count: int
) -> None:
    """Audit a police or INTERPOL key's read of its items or referrals."""
    record(
        action,
        organisation=seat.organisation,
        object_type="accounts.apikey",
        object_id=key.prefix,
        detail={"since": since, count_key: count},
    )


def do_record_lea_api_download(seat: LeaSeat, key: ApiKey, item: MediaItem) -> None:
    """Audit a media file handed to a police or INTERPOL key."""
    record(
        "media.downloaded",
        organisation=seat.organisation,
        obj=item,
        detail={"api_key": key.prefix, "via": "lea api"},
    )
