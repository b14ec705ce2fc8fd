from __future__ import annotations

from django.urls import path

from openhotline.assessment import queue_views
from openhotline.reports import views

app_name = "reports"
urlpatterns = [
    # The queue is the analyst workspace's (assessment app); its name stays here.
    path("", queue_views.queue, name="queue"),
    path("reports/<str:code>/", views.report_detail, name="report"),
    path("urls/<str:code>/", views.reported_url_detail, name="url"),
]
