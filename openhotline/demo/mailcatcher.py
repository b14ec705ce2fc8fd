"""The demo's mail server: it keeps every message it is sent, and delivers none.

Notices, escalations and forwards go to it over real SMTP (``openhotline
demo`` points ``OPENHOTLINE_SMTP_*`` at it). Each message is written to the
demo mailbox folder, one ``.eml`` file each, where the staff page
``/app/demo/mailbox/`` reads it; then ``on_message`` is called with the
message's text, which is how the demo's hosters "read" their notices.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)
# aiosmtpd logs every connection at INFO: the demo's console is for the demo.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def message_text(raw: bytes) -> str:
    """The plain-text body of a message ("" when it has none)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


class _Keeper:
    def __init__(self, folder: Path, on_message: Callable[[str], Any] | None) -> None:
        self.folder = folder
        self.on_message = on_message
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.content)
        self.count += 1
        name = f"{time.time_ns()}-{self.count}.eml"
        # Written under another name and renamed: the page never reads half a message.
        partial = self.folder / f".{name}"
        partial.write_bytes(raw)
        os.replace(partial, self.folder / name)
        if self.on_message is not None:
            try:
                self.on_message(message_text(raw))
            except Exception:  # a hoster that cannot read the notice still got it
                logger.exception("demo mail handler failed")
        return "250 Message accepted"


def start_mail_catcher(
    folder: Path, host: str, port: int, on_message: Callable[[str], Any] | None = None
) -> Controller:
    """An SMTP server on ``host:port`` (no TLS, no login) keeping mail in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_Keeper(folder, on_message), hostname=host, port=port)
    controller.start()
    return controller
