from __future__ import annotations

from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from openhotline.accounts import urls as accounts_urls
from openhotline.accounts import views as accounts_views
from openhotline.api import api
from openhotline.intake import urls as intake_urls
from openhotline.ops import views as ops_views

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("accounts/", include("openhotline.accounts.urls")),
    path("app/admin/", include(accounts_urls.admin_patterns)),
    path("app/audit/", include(accounts_urls.audit_patterns)),
    path("app/keys/", include(accounts_urls.key_patterns)),
    path("app/partner/", include(intake_urls.partner_patterns)),
    path("app/", include("openhotline.reports.urls")),
    path("app/media/", include("openhotline.evidence.urls")),
    path("app/", include("openhotline.assessment.urls")),
    path("app/crawler/", include("openhotline.crawler.urls")),
    path("report/", include("openhotline.intake.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    # Browsers ask for /favicon.ico whatever the page says; send them to the icon.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("openhotline/favicon.svg"), permanent=True),
    ),
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("", include("openhotline.blocking.urls")),
    path("", include("openhotline.network.urls")),
    path("", include("openhotline.takedown.urls")),
    path("", include("openhotline.demo.urls")),
    path("app/stats/", include("openhotline.stats.urls")),
    path("transparency/", include("openhotline.stats.public_urls")),
    # Federation between installations: the signed peer API and the staff page.
    path("", include("openhotline.federation.urls")),
]
