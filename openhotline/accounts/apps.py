from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "openhotline.accounts"
    label = "accounts"
    verbose_name = "Organisations and users"
