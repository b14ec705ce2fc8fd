from __future__ import annotations

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "openhotline.network"
    label = "network"
    verbose_name = "Network: routing, forwarding, police and INTERPOL"

    def ready(self) -> None:
        from openhotline.network import receivers  # noqa: F401  (connects the receivers)
