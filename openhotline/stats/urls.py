from __future__ import annotations

from django.urls import path

from openhotline.stats import views

app_name = "stats"
urlpatterns = [
    path("", views.dashboard, name="overview"),
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    path("<slug:slug>/<slug:table>.csv", views.table_csv, name="csv"),
]
