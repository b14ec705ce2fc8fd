"""`{% machines_panel %}`: each worker machine's PDQ index serial and lag, for admins.

The same figures ``/readyz`` gives (``ops.health.index_replicas``), on the
admin home, where a hotline's admin looks. They are installation-wide, like
the workers themselves: no hotline's data is in them.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from openhotline.ops.health import index_replicas, is_behind

register = template.Library()


@register.inclusion_tag("ops/_machines.html")
def machines_panel() -> dict[str, Any]:
    replicas = index_replicas()
    for replica in replicas:
        replica["behind"] = is_behind(replica)
    return {
        "replicas": replicas,
        "limit": settings.OPENHOTLINE_INDEX_MAX_LAG_SECONDS,
        "stale": settings.OPENHOTLINE_WORKER_STALE_SECONDS,
    }
