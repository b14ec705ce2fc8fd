from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "openhotline.ops"
    label = "ops"

    def ready(self) -> None:
        from openhotline.ops import checks  # noqa: F401 - registers the deploy checks
        from openhotline.ops.datadir import prepare_data_dir

        prepare_data_dir()
