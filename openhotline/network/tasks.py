"""Background work of the network: sweeps and package expiry.

The task that e-mails a forward to an external hotline, ``send_forward_package``,
is defined in ``forward_mail`` (below forwarding, which queues it) and
registered with Celery through the import here.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from openhotline.network.actions.packages import do_purge_expired_packages
from openhotline.network.actions.police_feedback import do_remind_unacknowledged
from openhotline.network.actions.routing import route_quietly
from openhotline.network.forward_mail import send_forward_package
from openhotline.network.models import Forward, ForwardKind, ForwardState
from openhotline.reports.models import ReportedUrl, UrlState


@shared_task(acks_late=True, name="openhotline.network.tasks.sweep")
def sweep() -> dict[str, int]:
    """The safety net: route what a failed receiver left, re-send what failed to go.

    1. URLs assessed illegal (finished before routing existed, or whose
       routing failed) without a route are routed.
    2. External forwards still not sent an hour after they were made are
       queued again.
    """
    unrouted = ReportedUrl.objects.filter(
        state=UrlState.ILLEGAL, assessment__in_force_at__isnull=False, route__isnull=True
    ).values_list("pk", flat=True)
    routed = sum(1 for pk in unrouted[:500] if route_quietly(ReportedUrl(pk=pk)) is not None)
    stale = timezone.now() - timedelta(hours=1)
    waiting = Forward.objects.filter(
        kind=ForwardKind.EXTERNAL,
        state__in=[ForwardState.SENDING, ForwardState.FAILED],
        created_at__lte=stale,
    ).values_list("pk", flat=True)
    queued = 0
    for pk in waiting[:500]:
        send_forward_package.delay(pk)
        queued += 1
    return {"routed": routed, "forwards_queued": queued}


@shared_task(name="openhotline.network.tasks.purge_packages")
def purge_packages() -> int:
    """Delete expired package files (run daily by beat); ``OPENHOTLINE_LEA_PACKAGE_HOURS``."""
    return do_purge_expired_packages()


@shared_task(name="openhotline.network.tasks.remind_referrals")
def remind_referrals() -> int:
    """Remind referrals the police have not acknowledged (safe to run twice: each is sent once)."""
    return do_remind_unacknowledged()
