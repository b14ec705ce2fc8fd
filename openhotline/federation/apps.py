from __future__ import annotations

from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "openhotline.federation"
    label = "federation"
    verbose_name = "Federation: peered installations"

    def ready(self) -> None:
        # Importing them connects the receivers.
        from openhotline.federation import receivers  # noqa: F401
