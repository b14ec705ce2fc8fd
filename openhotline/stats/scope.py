"""What a figure is about: which hotlines, which period, which hosting country."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q


@dataclass(frozen=True)
class Scope:
    """The filters of a dashboard or report.

    ``hotline_ids`` None means every hotline (the network view); ``end`` is
    exclusive; ``country`` is an ISO code, or empty for every country.
    """

    hotline_ids: tuple[int, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    country: str = ""

    def q(self, time_field: str = "reported_at", *, country: bool = True) -> Q:
        """The filter as a ``Q`` on a fact model (``time_field`` places a row in time)."""
        query = Q()
        if self.hotline_ids is not None:
            query &= Q(hotline_id__in=self.hotline_ids)
        if self.start is not None:
            query &= Q(**{f"{time_field}__gte": self.start})
        if self.end is not None:
            query &= Q(**{f"{time_field}__lt": self.end})
        if country and self.country:
            query &= Q(country=self.country)
        return query

    def sql(self, time_column: str = "reported_at") -> tuple[str, list[Any]]:
        """The filter as SQL over the URL facts, for the queries the ORM cannot write."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.hotline_ids is not None:
            if not self.hotline_ids:
                return "1 = 0", []
            clauses.append(f"hotline_id IN ({', '.join(['%s'] * len(self.hotline_ids))})")
            params.extend(self.hotline_ids)
        adapt = connection.ops.adapt_datetimefield_value
        if self.start is not None:
            clauses.append(f"{time_column} >= %s")
            params.append(adapt(self.start))
        if self.end is not None:
            clauses.append(f"{time_column} < %s")
            params.append(adapt(self.end))
        if self.country:
            clauses.append("country = %s")
            params.append(self.country)
        return (" AND ".join(clauses) or "1 = 1"), params

    def with_period(self, start: datetime | None, end: datetime | None) -> Scope:
        return Scope(self.hotline_ids, start, end, self.country)
