from __future__ import annotations

from django.apps import AppConfig


class CrawlerConfig(AppConfig):
    name = "openhotline.crawler"
    label = "crawler"
    verbose_name = "Crawler and hosting trace"
