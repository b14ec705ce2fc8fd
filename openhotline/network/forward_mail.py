"""E-mail a forward to an external member hotline: the ICCAM report and a VICS manifest.

``do_forward_external`` queues it (``queue_forward_package``) after its
commit; the network ``sweep`` queues again what is still waiting an hour on.
"""

from __future__ import annotations

import logging
import smtplib

from celery import Task, shared_task
from django.db import transaction
from django.utils import timezone

from openhotline.audit.log import record
from openhotline.network.iccam import package_attachments
from openhotline.network.models import Forward, ForwardKind, ForwardState
from openhotline.ops.mailer import Attachment, send_mail
from openhotline.reports.actions import add_timeline

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
    # A message id means it went already: by e-mail (with SENT), or into the
    # federation outbox of a peered installation, which delivers it itself.
    if forward is None or forward.state == ForwardState.SENT or forward.message_id:
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


def queue_forward_package(forward_id: int) -> None:
    try:
        send_forward_package.delay(forward_id)
    except Exception:  # the sweep task sends what is still waiting
        logger.exception("could not queue forward %s", forward_id)
