from __future__ import annotations

from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "openhotline.assessment"
    label = "assessment"
    verbose_name = "Assessment"

    def ready(self) -> None:
        from openhotline.assessment import receivers  # noqa: F401  (connects the receivers)
