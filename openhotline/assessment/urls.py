"""The analyst workspace under ``/app/``, the queue at ``/app/`` itself."""

from __future__ import annotations

from django.urls import path

from openhotline.assessment import (
    confirm_views,
    queue_views,
    review_views,
    settings_views,
    wellbeing_views,
)

app_name = "assessment"
urlpatterns = [
    path("", queue_views.queue, name="queue"),
    path("next/", queue_views.take_next, name="next"),
    path("review/<str:code>/", review_views.review, name="review"),
    path("review/<str:code>/classify", review_views.classify, name="classify"),
    path("review/<str:code>/undo", review_views.undo, name="undo"),
    path("review/<str:code>/reveal/<str:media_code>", review_views.reveal, name="reveal"),
    path("review/<str:code>/enlarge/<str:media_code>", review_views.enlarge, name="enlarge"),
    path("review/<str:code>/site-type", review_views.site_type, name="site_type"),
    path("review/<str:code>/finish", review_views.finish, name="finish"),
    path("review/<str:code>/claim", review_views.claim, name="claim"),
    path("review/<str:code>/release", review_views.release, name="release"),
    path("confirm/", confirm_views.confirm_list, name="confirm"),
    path("confirm/<str:media_code>/agree", confirm_views.agree, name="agree"),
    path("confirm/<str:media_code>/disagree", confirm_views.disagree, name="disagree"),
    path("confirm/<str:media_code>/settle", confirm_views.settle, name="settle"),
    path("confirm/<str:media_code>/opinion", confirm_views.opinion, name="opinion"),
    path("confirm-selected", confirm_views.confirm_selected, name="confirm_selected"),
    path("confirm-page/<str:code>/opinion", confirm_views.page_opinion, name="page_opinion"),
    path("confirm-page/<str:code>/settle", confirm_views.page_settle, name="page_settle"),
    path("wellbeing/", wellbeing_views.wellbeing, name="wellbeing"),
    path("wellbeing/break", wellbeing_views.took_break, name="took_break"),
    path("wellbeing/lift/<str:username>", wellbeing_views.lift_cap, name="lift_cap"),
    path("settings/<slug:slug>/", settings_views.workspace_settings, name="settings"),
    path("settings/<slug:slug>/claims", settings_views.save_claims, name="save_claims"),
    path("settings/<slug:slug>/rules", settings_views.save_rules, name="save_rules"),
    path("settings/<slug:slug>/four-eyes", settings_views.save_four_eyes, name="save_four_eyes"),
]
