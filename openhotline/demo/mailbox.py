"""Reading the demo mail catcher's folder: the notices it received, for one user."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import User
from openhotline.demo.mailcatcher import message_text
from openhotline.takedown.models import Notice

# The newest messages shown; the demo never gets near it.
LIMIT = 200


@dataclass(frozen=True)
class CaughtMessage:
    name: str
    to: str
    subject: str
    date: str
    text: str
    notice: Notice


def mailbox_dir() -> Path:
    return Path(settings.DATA_DIR) / "demo-mailbox"


def caught_notices(user: User) -> list[CaughtMessage]:
    """The caught messages that are notices of a hotline ``user`` works for, newest first.

    Each message names its notice in the ``X-Openhotline-Notice`` header; one
    that names no notice of the user's hotlines (another hotline's, a forward)
    is not shown.
    """
    folder = mailbox_dir()
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("[!.]*.eml"), reverse=True)[:LIMIT]
    parsed = []
    for path in files:
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parsed.append((path.name, message, raw))
    codes = {str(m.get("X-Openhotline-Notice", "")) for _, m, _ in parsed}
    notices = {
        n.code: n
        for n in Notice.objects.filter(code__in=codes, hotline__in=hotlines_for_user(user))
    }
    shown = []
    for name, message, raw in parsed:
        notice = notices.get(str(message.get("X-Openhotline-Notice", "")))
        if notice is None:
            continue
        shown.append(
            CaughtMessage(
                name=name,
                to=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                date=str(message.get("Date", "")),
                text=message_text(raw),
                notice=notice,
            )
        )
    return shown
