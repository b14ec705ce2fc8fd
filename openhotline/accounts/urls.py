from __future__ import annotations

from django.urls import path

from openhotline.accounts import admin_views, audit_views, key_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("enrol/<str:token>/", views.enrol, name="enrol"),
]

# The admin's pages, mounted under /app/admin/ by openhotline/urls.py.
admin_patterns = (
    [
        path("", admin_views.index, name="index"),
        path("<slug:slug>/", admin_views.home, name="home"),
        path("<slug:slug>/people/", admin_views.people, name="people"),
        path("<slug:slug>/people/invite/", admin_views.invite, name="invite"),
        path("<slug:slug>/people/<str:username>/", admin_views.member, name="member"),
        path("<slug:slug>/people/<str:username>/roles/", admin_views.set_roles, name="set_roles"),
        path(
            "<slug:slug>/people/<str:username>/deactivate/",
            admin_views.deactivate,
            name="deactivate",
        ),
        path(
            "<slug:slug>/people/<str:username>/reactivate/",
            admin_views.reactivate,
            name="reactivate",
        ),
        path(
            "<slug:slug>/people/<str:username>/reset-2fa/",
            admin_views.reset_second_factor,
            name="reset_2fa",
        ),
    ],
    "hotline_admin",
)

# The auditor's audit-log viewer, mounted under /app/audit/.
audit_patterns = (
    [
        path("", audit_views.log, name="log"),
        path("export.csv", audit_views.export_csv, name="export"),
        path("verify/", audit_views.verify, name="verify"),
    ],
    "audit_log",
)

# An ISP's or partner's own API keys, mounted under /app/keys/.
key_patterns = (
    [
        path("", key_views.keys, name="list"),
        path("new/", key_views.create, name="create"),
        path("<str:prefix>/revoke/", key_views.revoke, name="revoke"),
    ],
    "keys",
)
