from __future__ import annotations

from django.urls import path

from openhotline.evidence import views

app_name = "evidence"
urlpatterns = [
    path("storage/<slug:slug>/", views.storage, name="storage"),
    path("<str:code>/thumb.jpg", views.thumbnail, name="thumbnail"),
    path("<str:code>/view.jpg", views.revealed, name="revealed"),
]
