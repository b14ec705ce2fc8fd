"""Taking reports in: the public form, partner submissions, and erasure on schedule.

E-mail import is in ``intake.mailimport``; every path ends in
``reports.actions.do_file_report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.audit.log import record
from openhotline.intake import throttle
from openhotline.intake.keys import encrypt_email
from openhotline.intake.models import IdempotencyRecord, ReporterContact
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import Report, ReportSource


class TooManyReports(Exception):
    """This source has sent its share of reports for now."""


def do_submit_public_report(
    hotline: Organisation,
    *,
    source: str,
    urls: Sequence[str],
    description: str = "",
    where_found: str = "",
    comment: str = "",
    email: str = "",
    language: str = "",
) -> Report:
    """File a report from the public form; ``source`` is the keyed hash of the sender.

    The rate limit is checked and counted in the transaction that files the
    report, so a refused report leaves no row at all, not even a counter.
    """
    with transaction.atomic():
        if throttle.is_over_limit(source):
            raise TooManyReports
        report = do_file_report(
            hotline,
            source=ReportSource.PUBLIC,
            urls=urls,
            description=description,
            where_found=where_found,
            comment=comment,
            language=language,
        )
        if email:
            ReporterContact.objects.create(
                report=report,
                email_ciphertext=encrypt_email(email, context=report.code),
                erase_after=timezone.now()
                + timedelta(days=settings.OPENHOTLINE_REPORTER_EMAIL_RETENTION_DAYS),
            )
        throttle.count_report(source)
    return report


def do_erase_expired_intake_data() -> dict[str, int]:
    """Erase reporter addresses past their retention, and expired counters and records.

    Safe to run at any time and any number of times: each run deletes only
    what is due at that moment.
    """
    now = timezone.now()
    erased = 0
    due = ReporterContact.objects.filter(erase_after__lte=now).select_related("report__hotline")
    for contact in due.iterator():
        with transaction.atomic():
            deleted, _ = ReporterContact.objects.filter(pk=contact.pk).delete()
            if deleted:
                erased += 1
                record(
                    "reporter_contact.erased",
                    organisation=contact.report.hotline,
                    obj=contact.report,
                    detail={"reason": "retention period ended"},
                )
    counters = throttle.purge_expired(now)
    records, _ = IdempotencyRecord.objects.filter(expires_at__lte=now).delete()
    return {"reporter_contacts": erased, "rate_counters": counters, "idempotency_records": records}
