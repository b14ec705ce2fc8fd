"""What reading the audit log records in it: every look at the log is itself an event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from openhotline.audit.log import record
from openhotline.audit.verification import Verification, verify_now

if TYPE_CHECKING:
    from openhotline.accounts.models import Organisation, User


def do_record_log_read(
    what: str, *, actor: User, organisation: Organisation | None, filters: dict[str, Any]
) -> None:
    """Record that ``actor`` viewed (``what="viewed"``) or exported the log, with the filters."""
    with transaction.atomic():
        record(f"audit.log_{what}", actor=actor, organisation=organisation, detail=filters)


def do_verify_chain(*, actor: User, organisation: Organisation | None) -> Verification:
    """Verify the whole chain now and record the outcome as an event of its own.

    The outcome event is appended after the walk, so it vouches for every
    event before it; the page shows the newest such event as the chain's state.
    """
    result = verify_now()
    with transaction.atomic():
        record(
            "audit.chain_verified",
            actor=actor,
            organisation=organisation,
            detail={
                "intact": result.intact,
                "checked": result.checked,
                "checkpoints": result.checkpoints,
                "problem": result.problem,
            },
        )
    return result
