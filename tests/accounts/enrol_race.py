"""Run in racer processes (tests/support/racers.py): use one enrolment link."""

from __future__ import annotations


def use_link(link_pk: int, device_pk: int) -> str:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from openhotline.accounts.actions import AccountError, do_enrol_with_link
    from openhotline.accounts.models import EnrolmentLink

    link = EnrolmentLink.objects.get(pk=link_pk)
    device = TOTPDevice.objects.get(pk=device_pk)
    try:
        do_enrol_with_link(link, device)
    except AccountError:
        return "refused"
    return "enrolled"
