"""The RDAP cache in the database, so every worker shares one set of answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from openhotline.crawler.models import RdapCacheEntry


class DbRdapCache:
    def get(self, key: str) -> dict[str, Any] | None:
        entry = RdapCacheEntry.objects.filter(key=key[:300], expires_at__gt=timezone.now()).first()
        return entry.data if entry is not None else None

    def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        RdapCacheEntry.objects.update_or_create(
            key=key[:300],
            defaults={"data": value, "expires_at": timezone.now() + timedelta(seconds=ttl)},
        )

    @staticmethod
    def purge_expired() -> int:
        deleted, _ = RdapCacheEntry.objects.filter(expires_at__lte=timezone.now()).delete()
        return deleted
