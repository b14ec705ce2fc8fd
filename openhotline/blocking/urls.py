"""Staff pages under ``/app/blocking/`` and the providers' feed under ``/feed/v1/``."""

from __future__ import annotations

from django.urls import path

from openhotline.blocking import feed, isp_views, settings_views, version_views, views

app_name = "blocking"
urlpatterns = [
    path("feed/v1/blocklist.<str:fmt>", feed.blocklist, name="feed"),
    path("app/isp/", isp_views.home, name="isp_home"),
    path("app/blocking/", views.index, name="index"),
    path("app/blocking/entries/<str:code>/", views.entry_detail, name="entry"),
    path("app/blocking/entries/<str:code>/approve/", views.approve, name="approve"),
    path("app/blocking/entries/<str:code>/reject/", views.reject, name="reject"),
    path("app/blocking/entries/<str:code>/delist/", views.propose_delisting, name="delist"),
    path(
        "app/blocking/entries/<str:code>/approve-delisting/",
        views.approve_delisting,
        name="approve_delisting",
    ),
    path("app/blocking/<slug:slug>/", views.entry_list, name="list"),
    path("app/blocking/<slug:slug>/propose/", views.propose, name="propose"),
    path(
        "app/blocking/<slug:slug>/approve-selected/",
        views.approve_selected,
        name="approve_selected",
    ),
    path(
        "app/blocking/<slug:slug>/reject-selected/", views.reject_selected, name="reject_selected"
    ),
    path(
        "app/blocking/<slug:slug>/propose-host/",
        views.propose_whole_host,
        name="propose_host",
    ),
    path("app/blocking/<slug:slug>/versions/", version_views.versions, name="versions"),
    path("app/blocking/<slug:slug>/publish/", version_views.publish, name="publish"),
    path(
        "app/blocking/<slug:slug>/versions/<int:serial>/rollback/",
        version_views.rollback,
        name="rollback",
    ),
    path("app/blocking/<slug:slug>/protected/", settings_views.protected, name="protected"),
    path(
        "app/blocking/<slug:slug>/protected/<int:pk>/remove/",
        settings_views.protected_remove,
        name="protected_remove",
    ),
    path("app/blocking/<slug:slug>/stop-page/", settings_views.stop_page, name="stop_page"),
    path(
        "app/blocking/<slug:slug>/stop-page/<str:language>/",
        settings_views.stop_page_text,
        name="stop_page_text",
    ),
]
