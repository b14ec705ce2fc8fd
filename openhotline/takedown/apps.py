from __future__ import annotations

from django.apps import AppConfig


class TakedownConfig(AppConfig):
    name = "openhotline.takedown"
    label = "takedown"
    verbose_name = "Notice and takedown"

    def ready(self) -> None:
        from openhotline.takedown import receivers  # noqa: F401  (connects the receivers)
