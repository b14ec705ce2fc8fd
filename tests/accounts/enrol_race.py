"""Run in racer processes (tests/support/racers.py): use one enrolment link."""

from __future__ import annotations


def use_link(link_pk: int, device_pk: int) -> str:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from openhotline.accounts.actions import AccountError, do_enrol_with_link
    from openhotline.accounts.models import EnrolmentLink

    link = EnrolmentLink.objects.get(pk=link_pk)
    device = TOTPDevice.objects.filter(pk=device_pk).first()
    if device is None:
        # A racer that won before this one started has replaced every other
        # device of the user (one authenticator at a time): this one lost.
        return "refused"
    try:
        do_enrol_with_link(link, device)
    except AccountError:
        return "refused"
    return "enrolled"
