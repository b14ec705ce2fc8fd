"""Corrections to referrals already made, when a URL's verdict in force changes.

A shared item re-classified (and confirmed) can change the verdict of a URL
that was referred already. Its referrals are then corrected: withdrawn when
the URL is no longer illegal, or restated under the new verdict. The referral
itself says so (``PoliceReferral.state``, with the time and the reason), which
the police and INTERPOL portal and the LEA API show; each correction is also
on the URL's timeline and in the audit log. The items themselves leave or
change in the portal through ``lea_items``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS
from openhotline.audit.log import record
from openhotline.network.models import Forward, PoliceReferral, ReferralChannel, ReferralState
from openhotline.reports.actions import add_timeline
from openhotline.reports.models import ReportedUrl

# Timeline kinds the police portal shows on a referral.
CORRECTION_KINDS = ("network.referral_withdrawn", "network.referral_corrected")


def do_correct_referrals(reported_url: ReportedUrl, *, before: str, after: str) -> int:
    """Withdraw or correct every referral and forward of the URL; return how many."""
    url = ReportedUrl.objects.select_related("hotline").get(pk=reported_url.pk)
    withdrawn = after not in ILLEGAL_VERDICTS
    corrected = 0
    now = timezone.now()
    with transaction.atomic():
        for referral in PoliceReferral.objects.select_for_update().filter(reported_url=url):
            to = (
                "INTERPOL"
                if referral.channel == ReferralChannel.INTERPOL
                else f"the police ({referral.country})"
            )
            if withdrawn:
                text = f"Referral to {to} withdrawn: the verdict is now {after}"
                action = "network.referral_withdrawn"
            else:
                text = f"Correction sent to {to}: the verdict is now {after} (was {before})"
                action = "network.referral_corrected"
            referral.state = ReferralState.WITHDRAWN if withdrawn else ReferralState.CORRECTED
            referral.state_changed_at = now
            referral.state_reason = (
                f"The verdict is now {after} (was {before})"
                if not withdrawn
                else f"The hotline no longer finds it illegal: the verdict is now {after} "
                f"(was {before})"
            )
            referral.save(update_fields=["state", "state_changed_at", "state_reason"])
            add_timeline(
                text,
                kind=action,
                reported_url=url,
                detail={"referral": referral.code, "before": before, "after": after},
            )
            record(
                action,
                organisation=url.hotline,
                obj=referral,
                detail={"url": url.code, "before": before, "after": after},
            )
            corrected += 1
        for forward in Forward.objects.filter(sender_url=url):
            action = "network.forward_withdrawn" if withdrawn else "network.forward_corrected"
            add_timeline(
                f"Forward to {forward.member.name} "
                + ("withdrawn" if withdrawn else "corrected")
                + f": the verdict is now {after}",
                kind=action,
                reported_url=url,
                detail={"forward": forward.code, "before": before, "after": after},
            )
            record(
                action,
                organisation=url.hotline,
                obj=forward,
                detail={"url": url.code, "before": before, "after": after},
            )
            corrected += 1
    return corrected
