"""Background work of the network: packages to external hotlines, sweeps, package expiry."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import Task, shared_task
from django.db import transaction
from django.utils import timezone

from openhotline.audit.log import record
from openhotline.network.forwarding import package_attachments
from openhotline.network.models import Forward, ForwardKind, ForwardState
from openhotline.network.packages import do_purge_expired_packages
from openhotline.network.routing import route_quietly
from openhotline.ops.mailer import Attachment, send_mail
from openhotline.reports.actions import add_timeline
from openhotline.reports.models import ReportedUrl, UrlState

logger = logging.getLogger(__name__)

RETRY_SECONDS = 600


def _forward_text(forward: Forward) -> tuple[str, str]:
    url = forward.sender_url
    hotline = url.hotline
    subject = f"{hotline.name} forwards a URL hosted in {url.hosting_country} ({url.code})"
    text = (
        f"Dear colleagues of {forward.member.name},\n\n"
        f"{hotline.name} assessed the content at the address below as child sexual abuse "
        f"material. Our hosting trace places it in your country ({url.hosting_country}), so we "
        "forward it to you, as the member hotline there, to assess under your law and to have "
        "it removed.\n\n"
        f"  {url.url}\n\n"
        "Attached: report.json (ICCAM field names and codes) and manifest.vics.json (VICS 2.0: "
        "the hashes of the media we classified illegal, with the URLs they were found at). "
        "No media are attached.\n\n"
        f"Our reference: {url.code}. Please reply to "
        f"{hotline.contact_email or 'this message'} when you have taken it on.\n\n"
        f"{hotline.name}\n"
    )
    return subject, text


@shared_task(bind=True, acks_late=True, name="openhotline.network.tasks.send_forward_package")
def send_forward_package(self: Task, forward_id: int) -> str:
    """E-mail a forward to an external member hotline; tried again on failure.

    Safe to run twice: a forward already sent is not sent again.
    """
    forward = (
        Forward.objects.select_related("sender_url__hotline", "member")
        .filter(pk=forward_id, kind=ForwardKind.EXTERNAL)
        .first()
    )
    if forward is None or forward.state == ForwardState.SENT:
        return "nothing to do"
    subject, text = _forward_text(forward)
    attachments = [Attachment(*a) for a in package_attachments(forward.sender_url)]
    Forward.objects.filter(pk=forward.pk).update(attempts=forward.attempts + 1)
    try:
        message_id = send_mail(
            to=forward.recipient or forward.member.contact_email,
            subject=subject,
            text=text,
            reply_to=forward.sender_url.hotline.contact_email,
            headers={"X-Openhotline-Forward": forward.code},
            attachments=attachments,
        )
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        Forward.objects.filter(pk=forward.pk).update(state=ForwardState.FAILED, error=error)
        logger.warning("forward %s to %s failed: %s", forward.code, forward.recipient, error)
        if self.request.called_directly:
            return "failed"
        raise self.retry(countdown=RETRY_SECONDS, max_retries=12) from exc
    with transaction.atomic():
        forward.state = ForwardState.SENT
        forward.message_id = message_id[:300]
        forward.sent_at = timezone.now()
        forward.error = ""
        forward.save(update_fields=["state", "message_id", "sent_at", "error"])
        add_timeline(
            f"Package sent to {forward.member.name} <{forward.recipient}>",
            kind="network.forward_sent",
            reported_url=forward.sender_url,
            detail={"forward": forward.code},
        )
        record(
            "network.forward_sent",
            organisation=forward.sender_url.hotline,
            obj=forward,
            detail={"to": forward.recipient, "message_id": message_id},
        )
    return "sent"


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
