"""The police's answers that race, as the racers call them (see ``tests/support/racers.py``)."""

from __future__ import annotations

from tests.support.racepaths import held


def acknowledge(referral_id: int, user_id: int) -> bool:
    from openhotline.accounts.models import User
    from openhotline.network.actions.police_feedback import do_acknowledge_referral
    from openhotline.network.lea_access import seat_for_user
    from openhotline.network.models import PoliceReferral

    user = User.objects.get(pk=user_id)
    referral = PoliceReferral.objects.get(pk=referral_id)
    return held(lambda: do_acknowledge_referral(referral, seat_for_user(user), actor=user))


def decide(referral_id: int, user_id: int, decision: str) -> str:
    from openhotline.accounts.models import User
    from openhotline.network.actions.police_feedback import FeedbackError, do_decide_referral
    from openhotline.network.lea_access import seat_for_user
    from openhotline.network.models import PoliceReferral

    user = User.objects.get(pk=user_id)
    referral = PoliceReferral.objects.get(pk=referral_id)
    try:
        held(
            lambda: do_decide_referral(
                referral, seat_for_user(user), decision=decision, reason="race", actor=user
            )
        )
    except FeedbackError:
        return "refused"
    return decision
