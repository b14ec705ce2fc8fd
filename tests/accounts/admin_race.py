"""Run in racer processes (tests/support/racers.py): take away one of a hotline's admins."""

from __future__ import annotations

from tests.support.racepaths import held


def take_admin_away(how: str, hotline_id: int, user_id: int, actor_id: int) -> str:
    """``roles``: leave ``user`` an analyst only; ``deactivate``: deactivate the account.

    The transaction is held open a moment after the action, as a slow
    request's would be, so the two racers' checks overlap.
    """
    from openhotline.accounts.actions import AccountError, do_deactivate_user, do_set_roles
    from openhotline.accounts.models import Organisation, Role, User

    hotline = Organisation.objects.get(pk=hotline_id)
    user, actor = User.objects.get(pk=user_id), User.objects.get(pk=actor_id)
    try:
        if how == "roles":
            held(lambda: do_set_roles(user, hotline, {Role.ANALYST}, actor=actor))
        else:
            held(lambda: do_deactivate_user(user, hotline, actor=actor))
    except AccountError:
        return "refused"
    return "done"
