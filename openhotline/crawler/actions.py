"""State changes of crawls and domain rules, each with its timeline and audit entries."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.crawler.hosting import HostingTrace
from openhotline.crawler.models import (
    UNFINISHED_STATES,
    CrawledPage,
    CrawlRun,
    CrawlState,
    DomainRule,
    HostingRecord,
)
from openhotline.crawler.results import PageEvidence
from openhotline.evidence.actions import do_store_blob
from openhotline.lib.onerow import find_or_create
from openhotline.reports.actions import add_timeline, do_set_url_state, queue_crawl
from openhotline.reports.models import ReportedUrl, UrlState

_STARTABLE = frozenset({UrlState.NEW, UrlState.CRAWL_FAILED})


def do_start_crawl(run: CrawlRun, reported_url: ReportedUrl) -> None:
    """Mark an attempt as running, clearing what an interrupted attempt left."""
    with transaction.atomic():
        run.page_records.all().delete()
        HostingRecord.objects.filter(crawl=run).delete()
        run.state = CrawlState.RUNNING
        run.attempts += 1
        run.started_at = timezone.now()
        run.finished_at = None
        for counter in ("pages", "media_found", "media_fetched", "media_stored", "media_new"):
            setattr(run, counter, 0)
        run.save()
        if reported_url.state in _STARTABLE:
            do_set_url_state(reported_url, UrlState.CRAWLING, message="Crawl started")
        elif run.attempts == 1:
            add_timeline("Crawl started", kind="crawl.started", reported_url=reported_url)


def do_record_pages(run: CrawlRun, pages: list[PageEvidence], *, first_seq: int = 0) -> None:
    """Store the page evidence of a crawl, each document's bytes as an evidence blob."""
    rows = []
    for seq, page in enumerate(pages, start=first_seq):
        blob = do_store_blob(page.body, mime=page.mime) if page.body else None
        facts = page.as_json()
        rows.append(
            CrawledPage(
                crawl=run,
                seq=seq,
                kind=page.kind,
                url=page.url,
                final_url=page.final_url,
                parent_url=page.parent or "",
                status=page.status,
                redirects=facts["redirects"],
                headers=facts["headers"],
                title=page.title[:500],
                mime=page.mime[:100],
                encoding=page.encoding[:40],
                address=page.address or "",
                tls_cert_sha256=facts["tls_cert_sha256"] or "",
                fetched_at=page.fetched_at,
                elapsed=page.elapsed,
                size=len(page.body),
                sha256=facts["sha256"] if page.body else "",
                truncated=page.truncated,
                error=(page.error or "")[:500],
                media_found=page.media_found,
                body=blob,
            )
        )
    CrawledPage.objects.bulk_create(rows)


def do_record_hosting(run: CrawlRun, reported_url: ReportedUrl, trace: HostingTrace) -> None:
    """Keep the hosting trace and set the URL's hosting country (empty when unknown)."""
    ip = trace.ip
    with transaction.atomic():
        HostingRecord.objects.update_or_create(
            crawl=run,
            defaults={
                "host": trace.host[:255],
                "address": trace.address,
                "country": trace.country,
                "country_known": trace.country_known,
                "asn": ip.asn if ip is not None else None,
                "as_name": (ip.as_name if ip is not None else "")[:255],
                "network": (ip.network if ip is not None else "")[:64],
                "cdn": trace.cdn[:100],
                "hoster": trace.hoster[:255],
                "notice_to": trace.notice_to[:255],
                "registrar": trace.registrar[:255],
                "detail": trace.as_json(),
            },
        )
        if reported_url.hosting_country != trace.country:
            reported_url.hosting_country = trace.country
            reported_url.save(update_fields=["hosting_country", "updated_at"])
        where = trace.country or "unknown country"
        if trace.cdn:
            where = f"behind {trace.cdn}, real hosting country unknown"
        add_timeline(
            f"Hosting: {trace.address or 'no address'} ({where})",
            kind="crawl.hosting",
            reported_url=reported_url,
            detail={"address": trace.address, "country": trace.country, "cdn": trace.cdn},
        )


def do_finish_crawl(
    run: CrawlRun, reported_url: ReportedUrl, *, fatal: str | None, errors: list[dict[str, Any]]
) -> None:
    """Close a crawl as done or failed and move the URL on (to assessment or crawl_failed)."""
    with transaction.atomic():
        run.state = CrawlState.FAILED if fatal else CrawlState.DONE
        run.fatal_error = (fatal or "")[:500]
        run.errors = errors[:200]
        run.error_count = max(run.error_count, len(errors))
        run.finished_at = timezone.now()
        run.save()
        summary = f"{run.pages} pages, {run.media_stored} media ({run.media_new} new)" + (
            f", {run.error_count} errors" if run.error_count else ""
        )
        message = f"Crawl failed: {fatal}" if fatal else f"Crawl finished: {summary}"
        reported_url.refresh_from_db(fields=["state"])
        if reported_url.state in (*_STARTABLE, UrlState.CRAWLING):
            target = UrlState.CRAWL_FAILED if fatal else UrlState.AWAITING_ASSESSMENT
            do_set_url_state(reported_url, target, message=message)
        else:
            add_timeline(message, kind="crawl.finished", reported_url=reported_url)
        record(
            "crawl.failed" if fatal else "crawl.finished",
            organisation=reported_url.hotline,
            obj=reported_url,
            detail={
                "crawl": run.code,
                "pages": run.pages,
                "media": run.media_stored,
                "new_media": run.media_new,
                "errors": run.error_count,
                "fatal": run.fatal_error,
            },
        )


def do_skip_crawl(run: CrawlRun, reported_url: ReportedUrl, rule: DomainRule) -> None:
    """A "do not crawl" rule: nothing is fetched; the URL goes to the analysts as it is."""
    with transaction.atomic():
        run.state = CrawlState.SKIPPED
        run.finished_at = timezone.now()
        run.save()
        message = f"Not crawled: domain rule for {rule.domain}"
        if reported_url.state in (*_STARTABLE, UrlState.CRAWLING):
            do_set_url_state(reported_url, UrlState.AWAITING_ASSESSMENT, message=message)
        else:
            add_timeline(message, kind="crawl.skipped", reported_url=reported_url)


def do_note_retry(run: CrawlRun, reported_url: ReportedUrl, reason: str, countdown: int) -> None:
    with transaction.atomic():
        run.state = CrawlState.QUEUED
        run.fatal_error = reason[:500]
        run.save(update_fields=["state", "fatal_error", "updated_at"])
        add_timeline(
            f"Crawl attempt {run.attempts} failed ({reason}); trying again in {countdown} s",
            kind="crawl.retry",
            reported_url=reported_url,
        )


def do_request_recrawl(user: User, reported_url: ReportedUrl) -> CrawlRun:
    """Queue a new crawl of a URL (a staff member's request); the run code makes it idempotent.

    A crawl still queued or running is the one asked for: a double click, or
    two analysts at once, make one run (``one_unfinished_crawl_per_url``).
    """

    def create() -> CrawlRun:
        run = CrawlRun.objects.create(reported_url=reported_url, requested_by=user)
        add_timeline(
            "Crawl requested again", kind="crawl.requested", reported_url=reported_url, actor=user
        )
        record(
            "crawl.requested",
            actor=user,
            organisation=reported_url.hotline,
            obj=reported_url,
            detail={"crawl": run.code},
        )
        return run

    with transaction.atomic():
        run, _ = find_or_create(
            lambda: CrawlRun.objects.filter(
                reported_url=reported_url, state__in=UNFINISHED_STATES
            ).first(),
            create,
        )
        queue_crawl(reported_url.pk, crawl_code=run.code)
    return run


RULE_FIELDS = (
    "domain",
    "do_not_crawl",
    "force_hoster",
    "force_registrar",
    "notify_site_owner",
    "site_owner_contact",
    "proxy",
    "do_not_follow",
    "follow_depth",
    "follow_pages",
    "classify_as",
    "note",
)


def do_save_domain_rule(
    user: User, hotline: Organisation, values: dict[str, Any], rule: DomainRule | None = None
) -> DomainRule:
    with transaction.atomic():
        created = rule is None
        rule = rule or DomainRule(hotline=hotline, created_by=user)
        for name in RULE_FIELDS:
            if name in values:
                setattr(rule, name, values[name])
        rule.save()
        record(
            "crawler.domain_rule_saved",
            actor=user,
            organisation=hotline,
            object_type="crawler.domainrule",
            object_id=rule.domain,
            detail={"created": created, "effects": rule.summary()},
        )
    return rule


def do_delete_domain_rule(user: User, rule: DomainRule) -> None:
    with transaction.atomic():
        rule.delete()
        record(
            "crawler.domain_rule_deleted",
            actor=user,
            organisation=rule.hotline,
            object_type="crawler.domainrule",
            object_id=rule.domain,
        )


def do_record_screenshot_view(user: User, run: CrawlRun, *, step: str) -> None:
    """Audit that ``user`` saw a crawl's screenshot (at reveal step ``step``)."""
    record(
        "crawl.screenshot_viewed",
        actor=user,
        organisation=run.reported_url.hotline,
        obj=run.reported_url,
        detail={"crawl": run.code, "step": step},
    )
