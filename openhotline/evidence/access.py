"""Access helper for media items: reachable only through the user's hotlines' URLs."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from openhotline.accounts.models import User
from openhotline.evidence.models import MediaItem
from openhotline.reports.access import reported_urls_for_user


def media_for_user(user: User) -> QuerySet[MediaItem]:
    return MediaItem.objects.filter(
        url_links__reported_url__in=reported_urls_for_user(user)
    ).distinct()


def get_media_for_user(user: User, code: str) -> MediaItem:
    try:
        return media_for_user(user).select_related("blob").get(code=code)
    except MediaItem.DoesNotExist:
        raise Http404("No such media item") from None
