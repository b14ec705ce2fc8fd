from __future__ import annotations

from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "openhotline.stats"
    label = "stats"
    verbose_name = "Statistics"

    def ready(self) -> None:
        from openhotline.stats import receivers  # noqa: F401  (connects the receivers)
