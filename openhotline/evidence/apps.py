from __future__ import annotations

from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "openhotline.evidence"
    label = "evidence"
    verbose_name = "Evidence store and media"

    def ready(self) -> None:
        from django.conf import settings

        from openhotline.lib import imagedecode

        # Every image decode of this process (web, worker, CLI) shares these limits.
        imagedecode.configure(
            max_pixels=settings.OPENHOTLINE_IMAGE_MAX_PIXELS,
            memory=settings.OPENHOTLINE_IMAGE_DECODE_MEMORY,
        )
