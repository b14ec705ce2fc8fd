"""What intake keeps beside the reports themselves.

Reports and reported URLs live in the ``reports`` app. Intake adds what taking
them in needs: the public reporter's e-mail address (encrypted, erased on
schedule), rate-limit counters under a keyed hash of the sender's address,
partner idempotency records, file hashes sent by partners (for matching), the
e-mail messages already imported, and deconfliction links between hotlines.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone


class ReporterContact(models.Model):
    """A public reporter's e-mail address, given with consent to be contacted.

    Only the ciphertext is stored (see ``intake.keys``); the row is deleted
    once ``erase_after`` has passed.
    """

    report = models.OneToOneField("reports.Report", models.CASCADE, related_name="reporter_contact")
    email_ciphertext = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    erase_after = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"contact for report {self.report_id}"


class SourceCounter(models.Model):
    """Reports accepted from one source in one rate-limit window.

    ``source_hash`` is a keyed hash of the sender's address whose key changes
    every day, so rows cannot be linked across days nor turned back into an
    address; rows are deleted when they expire (within a day).
    """

    source_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["source_hash", "window_start"], name="unique_source_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_hash[:8]}… {self.count}"


class IdempotencyRecord(models.Model):
    """The answer given to a partner request, replayed when the request is retried."""

    organisation = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    endpoint = models.CharField(max_length=50)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    report = models.ForeignKey(
        "reports.Report", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation", "key"], name="unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"

    def matches(self, endpoint: str, request_hash: str) -> bool:
        return self.endpoint == endpoint and self.request_hash == request_hash


class HashAlgorithm(models.TextChoices):
    MD5 = "md5", "MD5"
    SHA1 = "sha1", "SHA-1"
    SHA256 = "sha256", "SHA-256"
    PDQ = "pdq", "PDQ"
    OTHER = "other", "Other"


class ReportedFileHash(models.Model):
    """A hash of a file a partner reported (CyberTipline ``fileDetails``), for matching."""

    report = models.ForeignKey("reports.Report", models.CASCADE, related_name="file_hashes")
    # The reported URL made from the file's ``locationOfFile``, when it had one.
    reported_url = models.ForeignKey(
        "reports.ReportedUrl", models.SET_NULL, null=True, blank=True, related_name="file_hashes"
    )
    algorithm = models.CharField(max_length=10, choices=HashAlgorithm.choices)
    # The partner's name for an algorithm we do not know ("PhotoDNA"); empty otherwise.
    algorithm_label = models.CharField(max_length=50, blank=True)
    value = models.CharField(max_length=512)
    file_name = models.CharField(max_length=255, blank=True)
    industry_classification = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["algorithm", "value"])]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


class MailOutcome(models.TextChoices):
    IMPORTED = "imported", "Imported as a report"
    REFUSED_SENDER = "refused_sender", "Sender not on the allow-list"
    TOO_LARGE = "too_large", "Larger than the limit"
    EMPTY = "empty", "No URL and no text"


class ImportedMessage(models.Model):
    """An e-mail message already taken in, so that none is imported twice.

    The row is written in the same transaction as the report; the mailbox
    flag comes after, so a crash in between leaves a message that the next
    run recognises here and only flags.
    """

    # SHA-256 of the Message-ID header, or of the whole message when it has none.
    message_key = models.CharField(max_length=64, unique=True)
    mailbox = models.CharField(max_length=300, blank=True)
    uid = models.CharField(max_length=60, blank=True)
    outcome = models.CharField(max_length=20, choices=MailOutcome.choices)
    report = models.ForeignKey(
        "reports.Report", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The raw message in the encrypted store of e-mail evidence (intake.mailstore).
    blob_name = models.CharField(max_length=64, blank=True)
    blob_sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.outcome} {self.message_key[:12]}…"
