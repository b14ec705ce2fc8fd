from __future__ import annotations

from django.apps import AppConfig


class BlockingConfig(AppConfig):
    name = "openhotline.blocking"
    label = "blocking"
    verbose_name = "Blocking"

    def ready(self) -> None:
        from openhotline.blocking import receivers  # noqa: F401  (connects the receivers)
