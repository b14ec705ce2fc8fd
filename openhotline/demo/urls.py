from __future__ import annotations

from django.urls import path

from openhotline.demo import views

app_name = "demo"
urlpatterns = [path("app/demo/mailbox/", views.mailbox, name="mailbox")]
