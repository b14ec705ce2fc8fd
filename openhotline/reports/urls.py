from __future__ import annotations

from django.urls import path

from openhotline.reports import views

app_name = "reports"
urlpatterns = [
    path("reports/<str:code>/", views.report_detail, name="report"),
    path("urls/<str:code>/", views.reported_url_detail, name="url"),
]
