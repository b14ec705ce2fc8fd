"""Staff pages under ``/app/network/`` and the law-enforcement portal under ``/lea/``."""

from __future__ import annotations

from django.urls import include, path

from openhotline.network import (
    lea_feedback_views,
    lea_item_views,
    lea_media_views,
    lea_settings_views,
    lea_views,
    views,
)

lea_patterns = (
    [
        path("", lea_views.home, name="home"),
        path("referrals/", lea_views.referrals, name="referrals"),
        path("referrals/<str:code>/", lea_views.referral_detail, name="referral"),
        path(
            "referrals/<str:code>/acknowledge/",
            lea_feedback_views.acknowledge,
            name="acknowledge",
        ),
        path("referrals/<str:code>/accept/", lea_feedback_views.accept, name="accept"),
        path("referrals/<str:code>/decline/", lea_feedback_views.decline, name="decline"),
        path(
            "referrals/<str:code>/investigation/",
            lea_feedback_views.investigation_opened,
            name="investigation",
        ),
        path("referrals/<str:code>/victim/", lea_feedback_views.victim_identified, name="victim"),
        path("priority/", lea_settings_views.priority, name="priority"),
        path("priority/save/", lea_settings_views.save_priority, name="save_priority"),
        path("profile/", lea_settings_views.profile, name="profile"),
        path("profile/age-key/", lea_settings_views.save_age_key, name="save_age_key"),
        path("items/", lea_views.items, name="items"),
        path("items/<str:code>/", lea_item_views.item_detail, name="item"),
        path("packages/", lea_views.packages, name="packages"),
        path("packages/new/", lea_views.package_new, name="package_new"),
        path(
            "packages/<str:code>/package.zip",
            lea_views.package_download,
            name="package_download",
        ),
        path("media/<str:code>/thumb.jpg", lea_media_views.thumbnail, name="thumbnail"),
        path("media/<str:code>/reveal", lea_media_views.reveal, name="reveal"),
        path("media/<str:code>/view.jpg", lea_media_views.revealed, name="revealed"),
    ],
    "lea",
)

network_patterns = (
    [
        path("", views.directory, name="directory"),
        path("members/<str:code>/", views.member_edit, name="member"),
        path("urls/<str:code>/", views.url_network, name="url"),
        path("urls/<str:code>/route/", views.route_again, name="route"),
    ],
    "network",
)

urlpatterns = [
    path("app/network/", include(network_patterns)),
    path("lea/", include(lea_patterns)),
]
