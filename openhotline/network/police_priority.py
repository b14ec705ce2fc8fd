"""The explainable police priority of referrals (AviaTor's half of the mission).

Police receive more referrals than they can open. Each police or INTERPOL
organisation ranks its referrals by a sum of weighted rules that its admin
edits (``PolicePriorityRule``), as the analysts' queue does for reported URLs
(``assessment.priority``); an organisation that never saved its rules uses
``DEFAULT_RULES``. Every score comes with its explanation: the signals that
added points, with their value, weight and points.

Scores are computed when asked, not stored: the age of a referral changes
every day and the flagged series with the admin's mind, and a few queries
per request serve any number of referrals (see ``gather``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.assessment.priority import YOUNGER_AGE_VALUES, weigh
from openhotline.evidence.models import UrlMedia
from openhotline.matching.models import Match
from openhotline.network.models import (
    AgencySettings,
    LeaItem,
    PolicePriorityRule,
    PoliceReferral,
    PoliceRuleKind,
    ReferralDecision,
    ReferralState,
)


@dataclass(frozen=True)
class Rule:
    kind: str
    weight: int
    cap: int | None = None

    @property
    def label(self) -> str:
        return str(PoliceRuleKind(self.kind).label)


# Order is the order of the explanation.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(PoliceRuleKind.NEW_MATERIAL, 40),
    Rule(PoliceRuleKind.YOUNGEST_AGE, 20),
    Rule(PoliceRuleKind.SELF_GENERATED, 15),
    Rule(PoliceRuleKind.COMMERCIAL, 20),
    Rule(PoliceRuleKind.VOLUME, 1, cap=50),
    Rule(PoliceRuleKind.OWN_COUNTRY, 10),
    Rule(PoliceRuleKind.FLAGGED_SERIES, 50),
    Rule(PoliceRuleKind.OWN_JURISDICTION, 10),
    Rule(PoliceRuleKind.REFERRAL_AGE, 2, cap=14),
)
DEFAULTS_BY_KIND = {rule.kind: rule for rule in DEFAULT_RULES}


@dataclass
class ReferralFacts:
    """What the rules look at, for one referral as one organisation sees it."""

    items: set[int] = field(default_factory=set)
    # Items with no match in any hash set: possibly ongoing abuse.
    new_items: set[int] = field(default_factory=set)
    youngest: str = ""
    self_generated: bool = False
    commercial: bool = False
    hosted_here: bool = False
    from_our_jurisdiction: bool = False
    series: set[str] = field(default_factory=set)
    flagged: set[str] = field(default_factory=set)
    age_days: int = 0


@dataclass(frozen=True)
class Ranked:
    referral: PoliceReferral
    score: int
    explanation: list[dict[str, object]]
    facts: ReferralFacts


def rules_for(organisation: Organisation) -> list[Rule]:
    """The organisation's enabled rules, in the order of ``DEFAULT_RULES``."""
    saved = {r.kind: r for r in PolicePriorityRule.objects.filter(organisation=organisation)}
    rules = []
    for default in DEFAULT_RULES:
        row = saved.get(default.kind)
        if row is None:
            rules.append(default)
        elif row.enabled:
            rules.append(Rule(row.kind, row.weight, row.cap))
    return rules


def flagged_series(organisation: Organisation) -> list[str]:
    found = AgencySettings.objects.filter(organisation=organisation).first()
    return list(found.flagged_series) if found is not None else []


def rule_value(rule: Rule, facts: ReferralFacts) -> int:
    """The value a rule's weight multiplies, capped at the rule's cap."""
    values = {
        PoliceRuleKind.NEW_MATERIAL: int(bool(facts.new_items)),
        PoliceRuleKind.YOUNGEST_AGE: YOUNGER_AGE_VALUES.get(facts.youngest, 0),
        PoliceRuleKind.SELF_GENERATED: int(facts.self_generated),
        PoliceRuleKind.COMMERCIAL: int(facts.commercial),
        PoliceRuleKind.VOLUME: len(facts.items),
        PoliceRuleKind.OWN_COUNTRY: int(facts.hosted_here),
        PoliceRuleKind.FLAGGED_SERIES: int(bool(facts.flagged)),
        PoliceRuleKind.OWN_JURISDICTION: int(facts.from_our_jurisdiction),
        PoliceRuleKind.REFERRAL_AGE: facts.age_days,
    }
    value = values.get(PoliceRuleKind(rule.kind), 0)
    return min(value, rule.cap) if rule.cap is not None else value


def score(rules: Sequence[Rule], facts: ReferralFacts) -> tuple[int, list[dict[str, object]]]:
    """The score and its explanation (the analysts' ``weigh``), naming the flagged series."""
    total, lines = weigh(rules, lambda rule: rule_value(rule, facts))
    for line in lines:
        if line["kind"] == PoliceRuleKind.FLAGGED_SERIES:
            line["series"] = sorted(facts.flagged)
    return total, lines


def gather(
    referrals: Sequence[PoliceReferral],
    organisation: Organisation,
    *,
    flagged: Sequence[str] = (),
    now: datetime | None = None,
) -> dict[int, ReferralFacts]:
    """The facts of many referrals in three queries, whatever their number.

    1. The media items on the referred URLs.
    2. The items in force at each referring hotline (the illegal ones), with
       the classification's age group and markers.
    3. The hash-set matches of those items: none means new material; the
       entries' VICS ``Series`` are compared with the agency's flagged ones.
    """
    moment = now or timezone.now()
    country = str(organisation.country).upper()
    wanted = {s.strip().casefold() for s in flagged if s.strip()}
    facts: dict[int, ReferralFacts] = {}
    by_url: dict[int, list[int]] = defaultdict(list)
    for referral in referrals:
        url = referral.reported_url
        facts[referral.pk] = ReferralFacts(
            hosted_here=bool(country)
            and (url.hosting_country or referral.country).upper() == country,
            from_our_jurisdiction=bool(country)
            and str(referral.hotline.country).upper() == country,
            age_days=max(0, (moment - referral.created_at).days),
        )
        by_url[url.pk].append(referral.pk)
    media_of: dict[int, set[int]] = defaultdict(set)
    for url_id, media_id in UrlMedia.objects.filter(reported_url_id__in=by_url).values_list(
        "reported_url_id", "media_item_id"
    ):
        media_of[url_id].add(media_id)
    every_media = set().union(*media_of.values()) if media_of else set()
    if not every_media:
        return facts
    illegal: dict[tuple[int, int], tuple[str, bool, bool]] = {}
    for hotline_id, media_id, age, self_generated, commercial in LeaItem.objects.filter(
        in_force=True,
        media_item_id__in=every_media,
        hotline_id__in={r.hotline_id for r in referrals},
    ).values_list(
        "hotline_id",
        "media_item_id",
        "classification__age_group",
        "classification__is_self_generated",
        "classification__is_commercial",
    ):
        illegal[(hotline_id, media_id)] = (age, self_generated, commercial)
    matched: set[int] = set()
    series_of: dict[int, set[str]] = defaultdict(set)
    # An entry made from this very item (a hotline's own set, fed by its
    # classification) says nothing about the item being known before.
    matches = Match.objects.filter(media_item_id__in={m for _, m in illegal}).exclude(
        entry__source_media_id=F("media_item_id")
    )
    for media_id, metadata in matches.values_list("media_item_id", "entry__metadata"):
        matched.add(media_id)
        name = (metadata or {}).get("series") if isinstance(metadata, dict) else None
        if isinstance(name, str) and name.strip():
            series_of[media_id].add(name.strip())
    for referral in referrals:
        entry = facts[referral.pk]
        for media_id in media_of.get(referral.reported_url_id, ()):
            found = illegal.get((referral.hotline_id, media_id))
            if found is None:
                continue
            age, self_generated, commercial = found
            entry.items.add(media_id)
            if media_id not in matched:
                entry.new_items.add(media_id)
            if YOUNGER_AGE_VALUES.get(age, 0) > YOUNGER_AGE_VALUES.get(entry.youngest, 0):
                entry.youngest = age
            entry.self_generated = entry.self_generated or self_generated
            entry.commercial = entry.commercial or commercial
            for name in series_of.get(media_id, ()):
                entry.series.add(name)
                if name.casefold() in wanted:
                    entry.flagged.add(name)
    return facts


def rank(
    referrals: Sequence[PoliceReferral], organisation: Organisation, *, now: datetime | None = None
) -> list[Ranked]:
    """The referrals, highest score first (newest first among equals), each explained.

    Settled ones (declined, withdrawn) come after every open one, still ranked.
    """
    rules = rules_for(organisation)
    facts = gather(referrals, organisation, flagged=flagged_series(organisation), now=now)
    ranked = []
    for referral in referrals:
        total, lines = score(rules, facts[referral.pk])
        ranked.append(Ranked(referral, total, lines, facts[referral.pk]))
    ranked.sort(
        key=lambda r: (
            is_settled(r.referral),
            -r.score,
            -r.referral.created_at.timestamp(),
            -r.referral.pk,
        )
    )
    return ranked


def is_settled(referral: PoliceReferral) -> bool:
    """Declined by the police or withdrawn by the hotline: listed after the open ones."""
    return (
        referral.decision == ReferralDecision.DECLINED or referral.state == ReferralState.WITHDRAWN
    )
