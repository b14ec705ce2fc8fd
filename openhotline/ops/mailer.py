"""Outgoing mail through Django's mail backend, configured by ``OPENHOTLINE_SMTP_*``.

Notices, escalations and packages to external hotlines all leave here. The
connection is built explicitly from our settings rather than from Django's
global default, so the backend an operator chose (SMTP by default) is the
one used, whatever else the process has configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


def _connection() -> Any:
    security = settings.OPENHOTLINE_SMTP_SECURITY
    return get_connection(
        backend=settings.OPENHOTLINE_MAIL_BACKEND,
        host=settings.OPENHOTLINE_SMTP_HOST,
        port=settings.OPENHOTLINE_SMTP_PORT,
        username=settings.OPENHOTLINE_SMTP_USER or None,
        password=settings.OPENHOTLINE_SMTP_PASSWORD or None,
        use_tls=security == "starttls",
        use_ssl=security == "ssl",
        timeout=settings.OPENHOTLINE_SMTP_TIMEOUT,
        fail_silently=False,
    )


def send_mail(
    *,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    reply_to: str = "",
    headers: dict[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
) -> str:
    """Send one message; return its Message-ID. SMTP errors propagate to the caller."""
    domain = settings.OPENHOTLINE_MAIL_FROM.rpartition("@")[2] or "openhotline.invalid"
    message_id = make_msgid(domain=domain)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.OPENHOTLINE_MAIL_FROM,
        to=[to],
        reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": message_id, **(headers or {})},
        connection=_connection(),
    )
    if html:
        message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    message.send(fail_silently=False)
    return message_id
