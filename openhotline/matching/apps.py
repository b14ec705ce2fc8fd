from __future__ import annotations

from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "openhotline.matching"
    label = "matching"
    verbose_name = "Hash sets and matching"

    def ready(self) -> None:
        from openhotline.matching import receivers  # noqa: F401  (connects the receivers)
