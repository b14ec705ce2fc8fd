"""Who may see which hash sets, and so their matches.

- A hotline's own sets: that hotline only.
- Installation-wide sets (no owner), audience "network": every hotline, police
  force and INTERPOL of the installation.
- Installation-wide sets, audience "everyone": also partners (platforms, NGOs)
  and other API users.

Entry metadata (series names, file paths, case ids) is shown to the network
only; partners learn that a hash is known, in which set, and its verdict.
Sets are managed by the operator, with the ``openhotline hashset`` command.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.matching.models import Audience, HashSet

NETWORK_KINDS = frozenset({OrgKind.HOTLINE, OrgKind.LEA, OrgKind.INTERPOL})


def sets_visible_to(organisation: Organisation) -> QuerySet[HashSet]:
    shared = Q(owner__isnull=True)
    if organisation.kind == OrgKind.HOTLINE:
        return HashSet.objects.filter(shared | Q(owner=organisation))
    if organisation.kind in NETWORK_KINDS:
        return HashSet.objects.filter(shared)
    return HashSet.objects.filter(shared, audience=Audience.EVERYONE)


def shows_metadata(organisation: Organisation) -> bool:
    return organisation.kind in NETWORK_KINDS
