from __future__ import annotations

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "openhotline.network"
    label = "network"
    verbose_name = "Network: routing, forwarding, police and INTERPOL"

    def ready(self) -> None:
        # Importing them connects the receivers.
        from openhotline.network import receivers, retrace  # noqa: F401
