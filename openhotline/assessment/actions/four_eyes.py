"""Four-eyes rules: which classifications a second person must confirm before they take effect.

Each hotline keeps, per verdict, a yes/no for new material and for known
material, edited by its admin. "Known" means matched exactly (MD5, SHA-1,
SHA-256) to an active hash set the hotline trusts; a near (PDQ) match is new.
Matching knows the matches, and answers the ``known_material_asked`` question
(``assessment/signals.py``).
A hotline that never saved its rules follows ``DEFAULT_RULES``: every illegal
verdict is confirmed, except on items matched exactly to a trusted set.
Until then nothing leaves the hotline: no referral, forward, notice or
blocklist proposal (``assessment.actions.do_put_url_in_force``).
"""

from __future__ import annotations

from django.db import transaction

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import FourEyesRule, Material
from openhotline.assessment.signals import known_material_asked
from openhotline.assessment.vocabulary import Verdict
from openhotline.audit.log import record
from openhotline.evidence.models import MediaItem

DEFAULT_RULES: frozenset[tuple[str, str]] = frozenset(
    {(Verdict.BASELINE, Material.NEW), (Verdict.NATIONAL, Material.NEW)}
)


def four_eyes_matrix(hotline_id: int) -> set[tuple[str, str]]:
    """The (verdict, material) pairs that need confirmation at this hotline."""
    rows = list(
        FourEyesRule.objects.filter(hotline_id=hotline_id).values_list(
            "verdict", "material", "requires_confirmation"
        )
    )
    if not rows:
        return set(DEFAULT_RULES)
    return {(verdict, material) for verdict, material, needed in rows if needed}


def is_known_material(hotline_id: int, media_item_id: int) -> bool:
    """The item is known material at this hotline: a receiver of the question says so.

    Matching answers it (an exact match to an active trusted hash set this hotline
    may use); assessment asks by signal because matching builds on it.
    """
    answers = known_material_asked.send(
        sender=MediaItem, hotline_id=hotline_id, media_item_id=media_item_id
    )
    return any(answer is True for _receiver, answer in answers)


def requires_confirmation(hotline_id: int, verdict: str, *, new_material: bool) -> bool:
    material = Material.NEW if new_material else Material.KNOWN
    return (verdict, material) in four_eyes_matrix(hotline_id)


def do_set_four_eyes(hotline: Organisation, needed: set[tuple[str, str]], *, actor: User) -> None:
    """Save the whole matrix (every cell, so that "nothing needs confirming" is kept too)."""
    with transaction.atomic():
        for verdict in Verdict.values:
            for material in Material.values:
                FourEyesRule.objects.update_or_create(
                    hotline=hotline,
                    verdict=verdict,
                    material=material,
                    defaults={"requires_confirmation": (verdict, material) in needed},
                )
        record(
            "assessment.four_eyes_changed",
            actor=actor,
            organisation=hotline,
            detail={"requires_confirmation": sorted(f"{v}/{m}" for v, m in needed)},
        )
