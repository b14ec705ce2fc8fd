"""Staff pages under ``/app/takedown/``."""

from __future__ import annotations

from django.urls import include, path

from openhotline.takedown import case_views, contact_views

patterns = (
    [
        path("", case_views.index, name="index"),
        path("cases/<str:code>/", case_views.case_detail, name="case"),
        path("cases/<str:code>/resolve/", case_views.resolve, name="resolve"),
        path("cases/<str:code>/close/", case_views.close, name="close"),
        path("cases/<str:code>/contact/", case_views.pick_contact, name="pick_contact"),
        path("cases/<str:code>/recheck/", case_views.recheck, name="recheck"),
        path("notices/<str:code>/", case_views.notice_detail, name="notice"),
        path("contacts/<str:code>/", contact_views.contact_detail, name="contact"),
        path("contacts/<str:code>/approve/", contact_views.contact_approve, name="approve"),
        path("contacts/<str:code>/merge/", contact_views.contact_merge, name="merge"),
        path("<slug:slug>/", case_views.cases, name="cases"),
        path("<slug:slug>/resolve-selected/", case_views.resolve_selected, name="resolve_selected"),
        path("<slug:slug>/close-selected/", case_views.close_selected, name="close_selected"),
        path("<slug:slug>/contacts/", contact_views.contacts, name="contacts"),
        path("<slug:slug>/templates/", contact_views.templates, name="templates"),
        path(
            "<slug:slug>/templates/<str:kind>/<str:language>/",
            contact_views.template_edit,
            name="template",
        ),
        path(
            "<slug:slug>/templates/<str:kind>/<str:language>/reset/",
            contact_views.template_reset,
            name="template_reset",
        ),
    ],
    "takedown",
)

urlpatterns = [path("app/takedown/", include(patterns))]
