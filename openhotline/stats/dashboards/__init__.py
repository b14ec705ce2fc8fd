"""The staff dashboards at ``/app/stats/``: each a page of tables from shared queries."""

from __future__ import annotations

from openhotline.stats.dashboards import blocking, exposure, hosters, hosting, overview, times
from openhotline.stats.tables import Dashboard

DASHBOARDS = {
    d.slug: d
    for d in (
        Dashboard("overview", "Counts", overview.BUILDERS),
        Dashboard("hosting", "Hosting countries", hosting.BUILDERS),
        Dashboard("times", "Times", times.BUILDERS),
        Dashboard("hosters", "Hosters", hosters.BUILDERS),
        Dashboard("exposure", "Exposure", exposure.BUILDERS),
        Dashboard(
            "blocking",
            "Blocklist",
            blocking.BUILDERS,
            notes=("The period selects the versions published; the country, the providers.",),
        ),
    )
}
