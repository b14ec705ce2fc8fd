from __future__ import annotations

from django.urls import path

from openhotline.stats import public_views

app_name = "transparency"
urlpatterns = [
    path("", public_views.transparency, name="report"),
    path("<slug:slug>/", public_views.transparency_for_hotline, name="hotline"),
]
