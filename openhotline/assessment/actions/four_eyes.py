"""Four-eyes rules: which classifications a second person must confirm before they take effect.

Each hotline keeps, per verdict, a yes/no for new material and for known
material, edited by its admin. "Known" means matched exactly (MD5, SHA-1,
SHA-256) to an active hash set the hotline trusts; a near (PDQ) match is new.
A hotline that never saved its rules follows ``DEFAULT_RULES``: every illegal
verdict is confirmed, except on items matched exactly to a trusted set.
Until then nothing leaves the hotline: no referral, forward, notice or
blocklist proposal (``assessment.actions.do_put_url_in_force``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import FourEyesRule, Material
from openhotline.assessment.vocabulary import Verdict
from openhotline.audit.log import record

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


def exactly_matched_to_trusted(hotline_id: int, media_item_id: int) -> bool:
    """The item matched exactly an active trusted hash set this hotline may use."""
    # Imported here: matching builds on assessment (it pre-classifies), not the reverse.
    from openhotline.matching.models import EXACT_KINDS, Match, Trust

    return (
        Match.objects.filter(
            media_item_id=media_item_id,
            kind__in=EXACT_KINDS,
            distance=0,
            hash_set__trust=Trust.TRUSTED,
            hash_set__active=True,
        )
        .filter(Q(hash_set__owner__isnull=True) | Q(hash_set__owner_id=hotline_id))
        .exists()
    )


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
