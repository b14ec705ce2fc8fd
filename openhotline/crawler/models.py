"""What the crawler keeps: crawl runs, page evidence, hosting traces, domain rules.

A ``CrawlRun`` is one crawl of one reported URL (a re-crawl is another run),
with its progress counters for the UI. Its pages are the evidence of what
was served (the HTML itself is an encrypted evidence blob), its hosting
trace says where and by whom. Media found go to the evidence app.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.lib.codes import random_code
from openhotline.lib.english import in_english


class CrawlState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not crawled (domain rule)")


FINISHED_STATES = frozenset({CrawlState.DONE, CrawlState.FAILED, CrawlState.SKIPPED})
UNFINISHED_STATES = frozenset({CrawlState.QUEUED, CrawlState.RUNNING})
MAX_STORED_ERRORS = 200


def new_crawl_code() -> str:
    return random_code(12, group=6)


class CrawlRun(models.Model):
    code = models.CharField(max_length=20, unique=True, default=new_crawl_code)
    reported_url = models.ForeignKey(
        "reports.ReportedUrl", models.CASCADE, related_name="crawl_runs"
    )
    state = models.CharField(max_length=10, choices=CrawlState.choices, default=CrawlState.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.IntegerField(default=0)
    host_waits = models.IntegerField(default=0)
    pages = models.IntegerField(default=0)
    media_found = models.IntegerField(default=0)
    media_fetched = models.IntegerField(default=0)
    media_stored = models.IntegerField(default=0)
    media_new = models.IntegerField(default=0)
    rendered = models.BooleanField(default=False)
    screenshot = models.ForeignKey(
        "evidence.Blob", models.PROTECT, null=True, blank=True, related_name="+"
    )
    error_count = models.IntegerField(default=0)
    # The first MAX_STORED_ERRORS errors: {url, stage, error, message}.
    errors = models.JSONField(default=list, blank=True)
    fatal_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            # One crawl at a time per reported URL: two deliveries of its crawl
            # task (a sweep's and intake's) share one run (docs/concurrency.md).
            models.UniqueConstraint(
                fields=["reported_url"],
                condition=Q(state__in=sorted(UNFINISHED_STATES)),
                name="one_unfinished_crawl_per_url",
            )
        ]

    def __str__(self) -> str:
        return self.code

    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES


class CrawledPage(models.Model):
    """Evidence of one fetched document: the reported page, a frame, a viewer page, a stylesheet."""

    crawl = models.ForeignKey(CrawlRun, models.CASCADE, related_name="page_records")
    seq = models.IntegerField()
    kind = models.CharField(max_length=20)
    url = models.TextField()
    final_url = models.TextField(blank=True)
    parent_url = models.TextField(blank=True)
    status = models.IntegerField(null=True, blank=True)
    redirects = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=list, blank=True)
    title = models.CharField(max_length=500, blank=True)
    mime = models.CharField(max_length=100, blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=45, blank=True)
    tls_cert_sha256 = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    elapsed = models.FloatField(default=0.0)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    truncated = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    media_found = models.IntegerField(default=0)
    body = models.ForeignKey(
        "evidence.Blob", models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["crawl", "seq"]

    def __str__(self) -> str:
        return self.final_url or self.url


class HostingRecord(models.Model):
    """The hosting trace of a crawl (see crawler/hosting.py); the full trace is in `detail`."""

    crawl = models.OneToOneField(CrawlRun, models.CASCADE, related_name="hosting")
    host = models.CharField(max_length=255)
    address = models.CharField(max_length=45, blank=True)
    country = models.CharField(max_length=2, blank=True)
    country_known = models.BooleanField(default=False)
    asn = models.BigIntegerField(null=True, blank=True)
    as_name = models.CharField(max_length=255, blank=True)
    network = models.CharField(max_length=64, blank=True)
    cdn = models.CharField(max_length=100, blank=True)
    hoster = models.CharField(max_length=255, blank=True)
    notice_to = models.CharField(max_length=255, blank=True)
    registrar = models.CharField(max_length=255, blank=True)
    detail = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.host} {self.address} {self.country or '??'}"


class Verdict(models.TextChoices):
    """Direct classification by a domain rule (ICCAM codes 1, 2, 4)."""

    BASELINE = "baseline", _("Baseline")
    NATIONAL = "national", _("Nationally illegal")
    NOT_ILLEGAL = "not_illegal", _("Not illegal")


class DomainRule(models.Model):
    """A hotline's standing instructions for one domain and its subdomains (as in SCARt)."""

    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    domain = models.CharField(max_length=255)
    do_not_crawl = models.BooleanField(default=False)
    force_hoster = models.CharField(max_length=255, blank=True)
    force_registrar = models.CharField(max_length=255, blank=True)
    notify_site_owner = models.BooleanField(default=False)
    site_owner_contact = models.CharField(max_length=255, blank=True)
    proxy = models.CharField(max_length=255, blank=True)
    # Following the site's links to other pages (a gallery's next pages): off,
    # or deeper / more pages than OPENHOTLINE_CRAWL_FOLLOW_DEPTH / _PAGES.
    do_not_follow = models.BooleanField("do not follow links to other pages", default=False)
    follow_depth = models.PositiveSmallIntegerField("links to follow deep", null=True, blank=True)
    follow_pages = models.PositiveSmallIntegerField(
        "pages to follow per crawl", null=True, blank=True
    )
    classify_as = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["domain"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "domain"], name="unique_domain_rule")
        ]

    def __str__(self) -> str:
        return self.domain

    def summary(self) -> list[str]:
        """The rule's effects in words, for lists and the timeline."""
        parts = []
        if self.do_not_crawl:
            parts.append("do not crawl")
        if self.force_hoster:
            parts.append(f"hoster: {self.force_hoster}")
        if self.force_registrar:
            parts.append(f"registrar: {self.force_registrar}")
        if self.notify_site_owner:
            parts.append(f"notify site owner {self.site_owner_contact}".strip())
        if self.proxy:
            parts.append("via proxy")
        if self.do_not_follow:
            parts.append("do not follow links")
        if self.follow_depth is not None:
            parts.append(f"follow links {self.follow_depth} deep")
        if self.follow_pages is not None:
            parts.append(f"follow up to {self.follow_pages} pages")
        if self.classify_as:
            parts.append(f"classify as {in_english(self.get_classify_as_display())}")
        return parts


class RdapCacheEntry(models.Model):
    """A cached RDAP answer (or bootstrap file), shared by all workers."""

    key = models.CharField(max_length=300, unique=True)
    data = models.JSONField()
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key


class HostSlot(models.Model):
    """One of the few crawls a host may have at once; a lease that expires if its worker dies."""

    host = models.CharField(max_length=255)
    slot = models.IntegerField()
    holder = models.CharField(max_length=40)
    expires_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["host", "slot"], name="unique_host_slot")
        ]

    def __str__(self) -> str:
        return f"{self.host}#{self.slot}"


def error_entries(errors: list[Any]) -> list[dict[str, str]]:
    """Crawl errors as stored in `CrawlRun.errors` (capped)."""
    return [
        {"url": e.url[:500], "stage": e.stage, "error": e.error, "message": e.message[:500]}
        for e in errors[:MAX_STORED_ERRORS]
    ]
