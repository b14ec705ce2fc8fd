"""The staff dashboards at ``/app/stats/``: each a page of tables from shared queries."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from openhotline.stats.dashboards import blocking, exposure, hosters, hosting, overview, times
from openhotline.stats.tables import Dashboard

DASHBOARDS = {
    d.slug: d
    for d in (
        Dashboard("overview", _("Counts"), overview.BUILDERS),
        Dashboard("hosting", _("Hosting countries"), hosting.BUILDERS),
        Dashboard("times", _("Times"), times.BUILDERS),
        Dashboard("hosters", _("Hosters"), hosters.BUILDERS),
        Dashboard("exposure", _("Exposure"), exposure.BUILDERS),
        Dashboard(
            "blocking",
            _("Blocklist"),
            blocking.BUILDERS,
            notes=(_("The period selects the versions published; the country, the providers."),),
        ),
    )
}
