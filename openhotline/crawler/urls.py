"""Staff pages under ``/app/crawler/``."""

from __future__ import annotations

from django.urls import path

from openhotline.crawler import views

app_name = "crawler"
urlpatterns = [
    path("urls/<str:code>/progress/", views.progress, name="progress"),
    path("urls/<str:code>/recrawl/", views.recrawl, name="recrawl"),
    path("crawls/<str:code>/screenshot.jpg", views.screenshot, name="screenshot"),
    path("<slug:slug>/rules/", views.rules, name="rules"),
    path("<slug:slug>/rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("<slug:slug>/rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
