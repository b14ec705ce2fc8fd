"""Steps the three-installation test runs inside one installation.

Each call is a fresh process with that installation's environment (its data
directory, database and broker): ``python -m tests.federation.remote NAME
'<json args>'`` prints the function's JSON result on its last line. Each
step calls the production actions, as an analyst's click or a crawl would.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def setup(country: str, name: str) -> dict[str, Any]:
    """The hotline of this installation, an analyst and an admin; no four-eyes rule."""
    from openhotline.accounts.actions import do_create_organisation, do_create_user
    from openhotline.accounts.models import Organisation, Role
    from openhotline.assessment.actions.four_eyes import do_set_four_eyes

    hotline = Organisation.objects.filter(country=country, kind="hotline").first()
    if hotline is None:
        hotline = do_create_organisation(name, "hotline", country)
        admin = do_create_user(f"admin{country.lower()}", hotline, Role.ADMIN, password="x" * 12)
        do_create_user(f"analyst{country.lower()}", hotline, Role.ANALYST, password="x" * 12)
        do_set_four_eyes(hotline, set(), actor=admin)
    return {"hotline": hotline.slug}


def _analyst(country: str) -> Any:
    from openhotline.accounts.models import User

    return User.objects.get(username=f"analyst{country.lower()}")


def _record_hosting(url: Any, country: str) -> None:
    from openhotline.crawler.actions import do_record_hosting
    from openhotline.crawler.hosting import HostingTrace
    from openhotline.crawler.models import CrawlRun, CrawlState

    run = CrawlRun.objects.create(reported_url=url, state=CrawlState.DONE)
    trace = HostingTrace(
        host=url.host,
        address="192.0.2.80",
        country=country,
        country_known=True,
        hoster=f"Hoster {country}",
        hoster_abuse=f"abuse@hoster-{country.lower()}.test",
        notice_to=f"abuse@hoster-{country.lower()}.test",
        notice_via="hoster",
    )
    do_record_hosting(run, url, trace)


def report_and_assess(country: str, url: str, hosted_in: str, seed: int) -> dict[str, Any]:
    """A report with one picture, crawled (trace: ``hosted_in``), classified baseline, finished.

    One transaction up to the finish, so the crawl queued by the report finds
    its run done and does nothing (the test fetches nothing from .test hosts).
    """
    from django.db import transaction
    from django.utils import timezone

    from openhotline.accounts.models import Organisation
    from openhotline.assessment.actions.classification import do_classify_item, do_finish_url
    from openhotline.evidence.actions import do_store_media
    from openhotline.evidence.models import MediaItem
    from openhotline.reports.actions import do_file_report
    from openhotline.reports.models import ReportSource
    from tests.network.conftest import generated_image

    hotline = Organisation.objects.get(country=country, kind="hotline")
    analyst = _analyst(country)
    with transaction.atomic():
        report = do_file_report(hotline, source=ReportSource.PUBLIC, urls=[url])
        page = report.urls.get()
        _record_hosting(page, hosted_in)
        do_store_media(
            generated_image(seed), mime="image/png", reported_url=page, source_url=url + "/1.png"
        )
    for item in MediaItem.objects.filter(url_links__reported_url=page):
        do_classify_item(
            hotline, item, "baseline", analyst=analyst, reported_url=page, new_material=False
        )
    do_finish_url(page, analyst, site_type="image_host")
    return {"code": page.code, "finished_at": timezone.now().timestamp()}


def file_only(country: str, url: str) -> dict[str, Any]:
    """A report that is only filed (the URL waits in the queue)."""
    from openhotline.accounts.models import Organisation
    from openhotline.reports.actions import do_file_report

    hotline = Organisation.objects.get(country=country, kind="hotline")
    return {"code": do_file_report(hotline, source="public", urls=[url]).urls.get().code}


def url_state(country: str, url: str) -> dict[str, Any]:
    """Where a URL stands here: in the queue?, its timeline, report, removal, federation rows."""
    from openhotline.assessment.queue import QueueFilters, queue_hotlines, queue_urls
    from openhotline.federation.models import InboxMessage, IncomingForward
    from openhotline.reports.models import Report, ReportedUrl

    found = list(ReportedUrl.objects.filter(url=url))
    if not found:
        return {"count": 0}
    page = found[0]
    analyst = _analyst(country)
    queued = queue_urls(analyst, QueueFilters(), queue_hotlines(analyst))
    report = Report.objects.filter(urls=page).order_by("pk").first()
    return {
        "count": len(found),
        "code": page.code,
        "state": page.state,
        "in_queue": queued.filter(pk=page.pk).exists(),
        "created_at": page.created_at.timestamp(),
        "removed_at": page.removed_at.timestamp() if page.removed_at else None,
        "timeline": [[e.kind, e.message] for e in page.timeline.order_by("pk")],
        "description": report.description if report else "",
        "incoming": IncomingForward.objects.filter(reported_url=page).count(),
        "inbox": InboxMessage.objects.count(),
    }


def assess_page_and_remove(country: str, url: str) -> dict[str, Any]:
    """The receiving hotline's work: trace, assess (a page verdict), then the removal."""
    from openhotline.assessment.actions.classification import do_finish_url
    from openhotline.reports.actions import do_set_url_state
    from openhotline.reports.models import ReportedUrl, UrlState

    page = ReportedUrl.objects.get(url=url)
    _record_hosting(page, country)
    do_finish_url(page, _analyst(country), site_type="image_host", verdict="baseline")
    page.refresh_from_db()
    assessed_state = page.state
    do_set_url_state(
        page, UrlState.REMOVED, actor=_analyst(country), message="Removal confirmed by re-check"
    )
    page.refresh_from_db()
    assert page.removed_at is not None
    return {"state": assessed_state, "removed_at": page.removed_at.timestamp()}


def outbox(kind: str = "") -> list[dict[str, Any]]:
    from openhotline.federation.models import OutboxMessage

    rows = OutboxMessage.objects.order_by("pk")
    if kind:
        rows = rows.filter(type=kind)
    return [
        {"id": m.message_id, "state": m.state, "attempts": m.attempts, "error": m.last_error}
        for m in rows
    ]


def ask(peer_country: str, urls: list[str]) -> dict[str, Any]:
    """Deconfliction: ask the peer which of these URLs (ours) it holds, and the tags sent."""
    from openhotline.federation.actions.deconfliction import do_ask_peer
    from openhotline.federation.identity import pair_key, parse_public_key, url_tag
    from openhotline.federation.models import Peer
    from openhotline.reports.models import ReportedUrl

    peer = Peer.objects.get(country=peer_country)
    ours = list(ReportedUrl.objects.filter(url__in=urls))
    held = do_ask_peer(peer, ours)
    key = pair_key(parse_public_key(peer.public_key))
    return {
        "held": sorted(u.url for u in held),
        "tags": {u.url: url_tag(key, u.normalized_url) for u in ours},
    }


def find_anywhere(needles: list[str]) -> list[str]:
    """Every stored text value (any table, any column) that contains one of ``needles``."""
    from django.apps import apps
    from django.db import models

    hits: list[str] = []
    for model in apps.get_models():
        text_fields = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
            and not f.is_relation
        ]
        rows = model._default_manager.values_list(*text_fields) if text_fields else []
        for row in rows:
            blob = json.dumps(row, default=str)
            hits.extend(f"{model._meta.label}: {needle}" for needle in needles if needle in blob)
    return hits


def make_set(country: str, name: str, sha256s: list[str]) -> dict[str, Any]:
    """A hash set of this hotline with entries (imported as a plain SHA-256 list)."""
    import io

    from openhotline.accounts.models import Organisation
    from openhotline.matching.actions.hash_sets import do_create_set
    from openhotline.matching.actions.importing import do_import
    from openhotline.matching.readers import ReadOptions

    hotline = Organisation.objects.get(country=country, kind="hotline")
    hash_set = do_create_set(name, owner=hotline, default_verdict="baseline")
    do_import(
        hash_set,
        io.BytesIO("\n".join(sha256s).encode()),
        file_name="first.txt",
        format="list",
        options=ReadOptions(kind="sha256"),
    )
    return {"code": hash_set.code}


def add_entries(code: str, sha256s: list[str]) -> dict[str, Any]:
    import io

    from openhotline.matching.actions.importing import do_import
    from openhotline.matching.models import HashSet
    from openhotline.matching.readers import ReadOptions

    hash_set = HashSet.objects.get(code=code)
    report = do_import(
        hash_set,
        io.BytesIO("\n".join(sha256s).encode()),
        file_name="more.txt",
        format="list",
        options=ReadOptions(kind="sha256"),
    )
    return {"added": report.added}


def publish(peer_country: str, code: str) -> dict[str, Any]:
    from openhotline.federation.actions.hashsets import do_publish
    from openhotline.federation.models import Peer
    from openhotline.matching.models import HashSet

    do_publish(Peer.objects.get(country=peer_country), HashSet.objects.get(code=code))
    return {}


def subscribe(country: str, peer_country: str, code: str) -> dict[str, Any]:
    from openhotline.accounts.models import Organisation
    from openhotline.federation.actions.hashsets import do_subscribe
    from openhotline.federation.models import Peer

    hotline = Organisation.objects.get(country=country, kind="hotline")
    subscription = do_subscribe(Peer.objects.get(country=peer_country), code, hotline)
    return {"set": subscription.hash_set.code}


def match_picture(country: str, seed: int, set_code: str) -> dict[str, Any]:
    """Store the picture of ``seed`` here and match it: does it hit the subscribed set?"""
    from openhotline.accounts.models import Organisation
    from openhotline.evidence.actions import do_store_media
    from openhotline.matching.actions.hash_sets import do_match_item
    from openhotline.matching.models import HashSet, Match
    from openhotline.reports.actions import do_file_report
    from tests.network.conftest import generated_image

    hotline = Organisation.objects.get(country=country, kind="hotline")
    page = do_file_report(hotline, source="public", urls=[f"http://pics.test/{seed}"]).urls.get()
    item, _ = do_store_media(
        generated_image(seed), mime="image/png", reported_url=page, source_url=page.url + "/p.png"
    )
    do_match_item(item)
    hash_set = HashSet.objects.get(code=set_code)
    return {
        "matched": Match.objects.filter(media_item=item, hash_set=hash_set).exists(),
        "entries": hash_set.entries.count(),
    }


def sha256_of_picture(seed: int) -> str:
    import hashlib

    from tests.network.conftest import generated_image

    return hashlib.sha256(generated_image(seed)).hexdigest()


def signed_attacks(peer_country: str) -> dict[str, int]:
    """Requests to the peer's real server: well signed, tampered, replayed, unsigned."""
    import urllib.error
    import urllib.request

    from openhotline.federation.models import Peer
    from openhotline.federation.signing import Message, sign

    peer = Peer.objects.get(country=peer_country)
    url = peer.base_url + "federation/v1/deconfliction"

    def post(body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def signed(body: bytes) -> dict[str, str]:
        message = Message("POST", url, {"content-type": "application/json"})
        sign(message, body, recipient_key_id=peer.key_id)
        return message.headers

    body = json.dumps({"tags": []}).encode()
    good = signed(body)
    tampered_body = json.dumps({"tags": ["0" * 64]}).encode()
    return {
        "good": post(body, good),
        "replayed": post(body, good),
        "tampered": post(tampered_body, signed(body)),
        "unsigned": post(body, {"content-type": "application/json"}),
    }


def audit_refusals() -> list[str]:
    from openhotline.audit.models import AuditEvent

    return [
        str(e.detail.get("reason"))
        for e in AuditEvent.objects.filter(action="federation.refused").order_by("pk")
    ]


def main() -> None:
    import django

    django.setup()
    name, args = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else []
    result = globals()[name](*args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
