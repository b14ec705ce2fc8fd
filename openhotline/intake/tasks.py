from __future__ import annotations

from celery import shared_task

from openhotline.intake.actions.public import do_erase_expired_intake_data


@shared_task(acks_late=True, name="openhotline.intake.tasks.erase_expired_intake_data")
def erase_expired_intake_data() -> dict[str, int]:
    """Hourly (beat): erase reporter addresses past retention and expired counters.

    Takes no arguments and deletes only what is due, so a repeated or
    overlapping run does no harm.
    """
    return do_erase_expired_intake_data()
