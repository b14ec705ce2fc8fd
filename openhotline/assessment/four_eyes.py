"""Four-eyes rules: which classifications a senior analyst must confirm before they take effect.

Each hotline keeps a matrix of verdict × material (new or known) with a
yes/no per cell, edited by its admin. A hotline that never saved its matrix
follows ``DEFAULT_RULES``: a baseline verdict on new material is confirmed
before it enters our hash set or goes to INTERPOL.
"""

from __future__ import annotations

from django.db import transaction

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import FourEyesRule, Material
from openhotline.assessment.vocabulary import Verdict
from openhotline.audit.log import record

DEFAULT_RULES: frozenset[tuple[str, str]] = frozenset({(Verdict.BASELINE, Material.NEW)})


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
