from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """``openhotline demo``: a small loopback internet, and the page of the mail it caught."""

    name = "openhotline.demo"
    label = "demo"
