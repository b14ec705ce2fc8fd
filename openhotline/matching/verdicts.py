"""What matches mean: category maps per VICS profile, and the pre-classification decision.

A match with a trusted set stands for a verdict (``HashSet.verdict_for``). When
an item matches several trusted sets, they must agree; otherwise, or when the
set's policy says an analyst must still look, the item is marked "needs a
second opinion" with the reason, so an analyst decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openhotline.assessment.vocabulary import Verdict
from openhotline.matching.lookup import Found
from openhotline.matching.models import DEFAULT, CategoryProfile, SetVerdict

# US (and Default) profile: 0 non-pertinent, 1 child abuse material, 2 child
# exploitive / age difficult, 3 CGI/animation, 4 comparison images (FORMATS.md).
# Category 1 takes the set's default verdict (baseline for an ICSE-grade set,
# nationally illegal for others); 2 and 4 are left to an analyst.
US_CATEGORIES = {
    "0": SetVerdict.NOT_ILLEGAL.value,
    "1": DEFAULT,
    "2": SetVerdict.NONE.value,
    "3": SetVerdict.NATIONAL_VIRTUAL.value,
    "4": SetVerdict.NONE.value,
}
# Other profiles number their categories differently: an admin maps them.
PROFILE_CATEGORIES: dict[str, dict[str, str]] = {
    CategoryProfile.DEFAULT: US_CATEGORIES,
    CategoryProfile.US: US_CATEGORIES,
    CategoryProfile.UK: {},
    CategoryProfile.CUSTOM: {},
}
MAP_VALUES = frozenset({*SetVerdict.values, DEFAULT})
KIND_LABELS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "pdq": "PDQ", "vpdq": "vPDQ"}


def parse_category_map(pairs: Iterable[str]) -> dict[str, str]:
    """``["2=national", "5=none"]`` as a category map, or ValueError saying what is wrong."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        number, sep, value = pair.partition("=")
        if not sep or not number.strip().isdigit():
            raise ValueError(f"{pair!r}: expected CATEGORY=VERDICT, e.g. 2=national")
        if value.strip() not in MAP_VALUES:
            raise ValueError(
                f"{pair!r}: the verdict must be one of {', '.join(sorted(MAP_VALUES))}"
            )
        mapping[str(int(number))] = value.strip()
    return mapping


@dataclass(frozen=True)
class Decision:
    """How to pre-classify an item: a verdict of the assessment vocabulary, and why."""

    verdict: str
    reason: str
    attributes: dict[str, Any] = field(default_factory=dict)


def describe(found: Found) -> str:
    """The reason shown to analysts: "set X, distance 4 (PDQ)"."""
    kind = KIND_LABELS.get(found.kind, found.kind)
    return f"set {found.entry.hash_set.name}, distance {found.distance} ({kind})"


# Attributes an own entry may carry over from the classification it came from.
CARRIED = ("age_group", "gender", "is_self_generated", "is_child_modelling", "is_commercial")


def decide(matches: list[Found]) -> Decision | None:
    """The pre-classification for an item from its matches with visible sets, or None.

    1. Only trusted sets count, and only entries that stand for a verdict.
    2. The best match (exact first, then the smallest distance) gives the reason.
    3. Sets that disagree: "needs a second opinion", naming both.
    4. A set whose policy wants an analyst to look (and no agreeing set that
       does not): "needs a second opinion", with the verdict the set suggests.
    """
    counted = []
    for found in sorted(matches, key=Found.rank):
        hash_set = found.entry.hash_set
        if not hash_set.is_trusted():
            continue
        verdict = hash_set.verdict_for(found.entry)
        if verdict != SetVerdict.NONE:
            counted.append((found, verdict))
    if not counted:
        return None
    best, verdict = counted[0]
    reason = describe(best)
    others = [(f, v) for f, v in counted if v != verdict]
    if others:
        other, other_verdict = others[0]
        return Decision(
            Verdict.SECOND_OPINION,
            f"sets disagree: {reason} says {verdict}; {describe(other)} says {other_verdict}",
        )
    if all(f.entry.hash_set.review_required for f, _ in counted):
        return Decision(
            Verdict.SECOND_OPINION, f"{reason} suggests {verdict}; policy: an analyst confirms"
        )
    attributes: dict[str, Any] = {}
    if verdict == SetVerdict.NATIONAL_VIRTUAL:
        verdict, attributes["is_virtual"] = Verdict.NATIONAL, True
    carried = best.entry.metadata.get("classification", {}) if best.entry.verdict else {}
    for name in CARRIED:
        if name in carried:
            attributes[name] = carried[name]
    return Decision(verdict, reason, attributes)
