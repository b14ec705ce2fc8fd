"""The explainable priority score of a reported URL (as in AviaTor).

The score is a sum of weighted rules that each hotline's admin edits
(``PriorityRule``); a hotline that never saved its rules uses
``DEFAULT_RULES``. Each term is kept with the score, so the queue can say
why a URL scored what it did. Scores are computed in batches, a few queries
per batch whatever its size, so that the hourly recompute of every open URL
stays cheap at 100,000 URLs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from openhotline.assessment.models import (
    Classification,
    ClassificationSource,
    PriorityRule,
    RuleKind,
    UrlPriority,
)
from openhotline.assessment.vocabulary import AgeGroup
from openhotline.evidence.models import UrlMedia
from openhotline.reports.models import ReportedUrl, ReportLink

BATCH = 500


@dataclass(frozen=True)
class Rule:
    kind: str
    weight: int
    cap: int | None = None
    threshold: int | None = None

    @property
    def label(self) -> str:
        return str(RuleKind(self.kind).label)


# Order is the order of the explanation.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(RuleKind.ESCALATED, 100),
    Rule(RuleKind.NEW_MATERIAL, 40),
    Rule(RuleKind.YOUNGER_AGE, 15),
    Rule(RuleKind.OWN_COUNTRY, 25),
    Rule(RuleKind.MEDIA_COUNT, 1, cap=20),
    Rule(RuleKind.REPORT_COUNT, 5, cap=10),
    Rule(RuleKind.REPORT_AGE, 2, cap=14),
    Rule(RuleKind.KNOWN_VIRAL, -30, threshold=10),
)
DEFAULTS_BY_KIND = {rule.kind: rule for rule in DEFAULT_RULES}
# The younger-age rule counts 2 for infants, 1 for pre-pubescent children.
YOUNGER_AGE_VALUES: dict[str, int] = {AgeGroup.INFANT: 2, AgeGroup.PREPUBESCENT: 1}


@dataclass
class UrlFacts:
    """What the rules look at, for one reported URL."""

    hotline_id: int
    own_country: bool = False
    age_days: int = 0
    escalated: bool = False
    report_count: int = 0
    sources: set[str] = field(default_factory=set)
    media: set[int] = field(default_factory=set)
    known: set[int] = field(default_factory=set)
    youngest: str = ""
    # Known item -> on how many reported URLs (of any hotline) it was found.
    spread: dict[int, int] = field(default_factory=dict)

    @property
    def new_items(self) -> int:
        return len(self.media - self.known)


def rules_for(hotline_ids: Iterable[int]) -> dict[int, list[Rule]]:
    """The enabled rules of each hotline, in the order of ``DEFAULT_RULES``."""
    wanted = set(hotline_ids)
    saved: dict[int, dict[str, PriorityRule]] = defaultdict(dict)
    for saved_row in PriorityRule.objects.filter(hotline_id__in=wanted):
        saved[saved_row.hotline_id][saved_row.kind] = saved_row
    result: dict[int, list[Rule]] = {}
    for hotline_id in wanted:
        rows = saved.get(hotline_id, {})
        rules = []
        for default in DEFAULT_RULES:
            row = rows.get(default.kind)
            if row is None:
                rules.append(default)
            elif row.enabled:
                rules.append(Rule(row.kind, row.weight, row.cap, row.threshold))
        result[hotline_id] = rules
    return result


def rule_value(rule: Rule, facts: UrlFacts) -> int:
    """The value a rule's weight multiplies, capped at the rule's cap."""
    if rule.kind == RuleKind.NEW_MATERIAL:
        value = 1 if facts.new_items else 0
    elif rule.kind == RuleKind.YOUNGER_AGE:
        value = YOUNGER_AGE_VALUES.get(facts.youngest, 0)
    elif rule.kind == RuleKind.MEDIA_COUNT:
        value = len(facts.media)
    elif rule.kind == RuleKind.OWN_COUNTRY:
        value = int(facts.own_country)
    elif rule.kind == RuleKind.ESCALATED:
        value = int(facts.escalated)
    elif rule.kind == RuleKind.REPORT_AGE:
        value = facts.age_days
    elif rule.kind == RuleKind.REPORT_COUNT:
        value = max(0, facts.report_count - 1)
    elif rule.kind == RuleKind.KNOWN_VIRAL:
        threshold = rule.threshold or 1
        value = int(any(facts.spread.get(item, 0) >= threshold for item in facts.known))
    else:
        value = 0
    return min(value, rule.cap) if rule.cap is not None else value


class WeightedRule(Protocol):
    """A rule of a weighted, explained priority (the analysts' queue, the police's list)."""

    # Read-only, as the rules are frozen dataclasses.
    @property
    def kind(self) -> str: ...

    @property
    def weight(self) -> int: ...

    @property
    def label(self) -> str: ...


def weigh(
    rules: Sequence[WeightedRule], value_of: Callable[[Any], int]
) -> tuple[int, list[dict[str, object]]]:
    """The score and its explanation: one line per rule that added or took points."""
    total = 0
    lines: list[dict[str, object]] = []
    for rule in rules:
        value = value_of(rule)
        points = rule.weight * value
        total += points
        if points:
            lines.append(
                {
                    "kind": rule.kind,
                    "label": rule.label,
                    "value": value,
                    "weight": rule.weight,
                    "points": points,
                }
            )
    return total, lines


def score(rules: Sequence[Rule], facts: UrlFacts) -> tuple[int, list[dict[str, object]]]:
    """The score and its explanation: one line per rule that added or took points."""
    return weigh(rules, lambda rule: rule_value(rule, facts))


def gather_facts(url_ids: Sequence[int], *, now: datetime | None = None) -> dict[int, UrlFacts]:
    """Collect the facts of many URLs in five queries.

    1. The URLs, with their hotline's country and their age.
    2. Their reports: how many, from which sources, whether any is escalated.
    3. Their media items.
    4. The hash-match classifications of those items at each URL's hotline
       (known material, and the youngest age group the matches suggest).
    5. For known items, on how many reported URLs each was found (viral).
    """
    moment = now or timezone.now()
    facts: dict[int, UrlFacts] = {}
    for row in ReportedUrl.objects.filter(pk__in=url_ids).values(
        "pk", "hotline_id", "hotline__country", "hosting_country", "created_at"
    ):
        facts[row["pk"]] = UrlFacts(
            hotline_id=row["hotline_id"],
            own_country=bool(row["hosting_country"])
            and row["hosting_country"].upper() == str(row["hotline__country"]).upper(),
            age_days=max(0, (moment - row["created_at"]).days),
        )
    for url_id, source, escalated in ReportLink.objects.filter(
        reported_url_id__in=facts
    ).values_list("reported_url_id", "report__source", "report__escalated"):
        entry = facts[url_id]
        entry.report_count += 1
        entry.sources.add(source)
        entry.escalated = entry.escalated or escalated
    items_of: dict[int, set[int]] = defaultdict(set)
    for url_id, item_id in UrlMedia.objects.filter(reported_url_id__in=facts).values_list(
        "reported_url_id", "media_item_id"
    ):
        facts[url_id].media.add(item_id)
        items_of[item_id].add(url_id)
    if not items_of:
        return facts
    matched: dict[tuple[int, int], set[str]] = defaultdict(set)
    for hotline_id, item_id, age_group in Classification.objects.filter(
        source=ClassificationSource.HASH_MATCH,
        media_item_id__in=items_of,
        hotline_id__in={f.hotline_id for f in facts.values()},
    ).values_list("hotline_id", "media_item_id", "age_group"):
        matched[(hotline_id, item_id)].add(age_group)
    for item_id, url_ids_of_item in items_of.items():
        for url_id in url_ids_of_item:
            entry = facts[url_id]
            ages = matched.get((entry.hotline_id, item_id))
            if ages is None:
                continue
            entry.known.add(item_id)
            for age in (AgeGroup.INFANT, AgeGroup.PREPUBESCENT):
                if age in ages and entry.youngest != AgeGroup.INFANT:
                    entry.youngest = age
                    break
    known_items = {item_id for _, item_id in matched}
    spread = dict(
        UrlMedia.objects.filter(media_item_id__in=known_items)
        .values("media_item_id")
        .annotate(n=Count("reported_url_id", distinct=True))
        .values_list("media_item_id", "n")
    )
    for entry in facts.values():
        entry.spread = {item: spread.get(item, 0) for item in entry.known}
    return facts


def compute_scores(url_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, int]:
    """Score URLs in batches, store the explanation and write ``ReportedUrl.priority``."""
    ids = sorted(set(url_ids))
    scores: dict[int, int] = {}
    moment = now or timezone.now()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        facts = gather_facts(batch, now=moment)
        rules = rules_for({f.hotline_id for f in facts.values()})
        rows = []
        for url_id, entry in facts.items():
            total, lines = score(rules[entry.hotline_id], entry)
            scores[url_id] = total
            rows.append(
                UrlPriority(
                    reported_url_id=url_id,
                    score=total,
                    explanation=lines,
                    new_items=entry.new_items,
                    known_items=len(entry.known),
                    report_count=entry.report_count,
                    sources=",".join(sorted(entry.sources)),
                    computed_at=moment,
                )
            )
        _store(rows)
    return scores


def _store(rows: list[UrlPriority]) -> None:
    if not rows:
        return
    with transaction.atomic():
        UrlPriority.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["reported_url"],
            update_fields=[
                "score",
                "explanation",
                "new_items",
                "known_items",
                "report_count",
                "sources",
                "computed_at",
            ],
        )
        current = dict(
            ReportedUrl.objects.filter(pk__in=[r.reported_url_id for r in rows]).values_list(
                "pk", "priority"
            )
        )
        changed = [
            ReportedUrl(pk=r.reported_url_id, priority=r.score)
            for r in rows
            if current.get(r.reported_url_id) != r.score
        ]
        if changed:
            ReportedUrl.objects.bulk_update(changed, ["priority"], batch_size=BATCH)
