"""What the four-eyes race test's racer processes call (see tests/support/racers.py)."""

from __future__ import annotations

from openhotline.accounts.models import User
from openhotline.assessment.actions.classification import do_second_opinion
from openhotline.assessment.models import ItemStatus


def confirm(status_id: int, senior_id: int) -> str:
    status = ItemStatus.objects.select_related("hotline", "media_item", "current").get(pk=status_id)
    return do_second_opinion(status, User.objects.get(pk=senior_id), status.current.verdict)
