from __future__ import annotations

from django.urls import path

from openhotline.intake import partner_views, views

app_name = "intake"
urlpatterns = [
    path("", views.report_form, name="report"),
    path("status/", views.report_status, name="status"),
    path("<slug:slug>/", views.report_form_for_hotline, name="report_for_hotline"),
]

# A partner's own page, mounted under /app/partner/.
partner_patterns = ([path("", partner_views.home, name="home")], "partner")
