"""The federation API for peers (``/federation/v1/``) and the staff page (``/app/federation/``)."""

from __future__ import annotations

from django.urls import include, path

from openhotline.federation import endpoints, views

api_patterns = (
    [
        path("inbox", endpoints.inbox, name="inbox"),
        path("deconfliction", endpoints.deconfliction, name="deconfliction"),
        path("hashsets", endpoints.hash_sets, name="hash_sets"),
        path("hashsets/<str:code>/changes", endpoints.hash_set_changes, name="hash_set_changes"),
    ],
    "federation_api",
)

staff_patterns = (
    [
        path("", views.peers, name="peers"),
        path("deliveries/<str:message_id>/retry/", views.retry, name="retry"),
        path("deliveries/<str:message_id>/give-up/", views.give_up, name="give_up"),
        path("peers/<str:peer_code>/media/allow/", views.allow_media, name="allow_media"),
        path("peers/<str:peer_code>/media/stop/", views.stop_media, name="stop_media"),
        path("urls/<str:code>/media/ask/", views.request_media, name="request_media"),
    ],
    "federation",
)

urlpatterns = [
    path("federation/v1/", include(api_patterns)),
    path("app/federation/", include(staff_patterns)),
]
