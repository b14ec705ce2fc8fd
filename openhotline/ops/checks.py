"""Deploy checks of openhotline's own settings (``openhotline check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_second_factor(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.OPENHOTLINE_REQUIRE_2FA:
        return []
    return [
        Warning(
            "OPENHOTLINE_REQUIRE_2FA is false: staff and police log in with a password alone.",
            hint="Set OPENHOTLINE_REQUIRE_2FA=true; enrol authenticators with "
            "`openhotline user enrol-link USERNAME`.",
            id="openhotline.W001",
        )
    ]
