"""Fixtures of the blocking tests: senior analysts, sources, and a helper to build a list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.blocking.actions.entries import do_approve_entry, do_propose_entry, get_source
from openhotline.blocking.actions.publishing import PublishOutcome, do_publish
from openhotline.blocking.models import BlocklistEntry, BlocklistSource, SourceKind


@pytest.fixture(autouse=True)
def export_settings(settings: Any, tmp_path: Any) -> None:
    """Stop-page addresses and a data directory of the test's own."""
    settings.OPENHOTLINE_STOPPAGE_ADDRESSES = ["127.0.0.1", "::1"]
    settings.OPENHOTLINE_STOPPAGE_HOST = "stop.hotline.test"
    settings.OPENHOTLINE_BLOCKLIST_ACTION = "local-data"
    settings.OPENHOTLINE_RPZ_ZONE = "rpz.hotline.test"
    settings.OPENHOTLINE_BLOCKLIST_MAX_CHANGE_SHARE = 0.10
    settings.OPENHOTLINE_BLOCKLIST_CHANGE_BASE = 50
    settings.OPENHOTLINE_BLOCKLIST_MAX_NOT_ILLEGAL_URLS = 5
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def senior(hotline_a: Organisation) -> User:
    return do_create_user("sam", hotline_a, Role.SENIOR_ANALYST, password="correct horse 6")


@pytest.fixture
def senior2(hotline_a: Organisation) -> User:
    return do_create_user("sue", hotline_a, Role.SENIOR_ANALYST, password="correct horse 7")


@pytest.fixture
def assessment(hotline_a: Organisation) -> BlocklistSource:
    return get_source(hotline_a, "Our assessment", SourceKind.ASSESSMENT)


ListBuilder = Callable[..., list[BlocklistEntry]]


@pytest.fixture
def approved_entries(
    hotline_a: Organisation, analyst: User, senior: User, assessment: BlocklistSource
) -> ListBuilder:
    """Propose (as the analyst) and approve (as the senior) URL, domain and whole-host
    entries."""

    def build(
        urls: Sequence[str] = (), domains: Sequence[str] = (), hosts: Sequence[str] = ()
    ) -> list[BlocklistEntry]:
        entries = []
        for kind, values in (("url", urls), ("domain", domains), ("host", hosts)):
            for value in values:
                entry = do_propose_entry(
                    hotline_a,
                    value=value,
                    kind=kind,
                    source=assessment,
                    dedicated=True,
                    actor=analyst,
                )
                do_approve_entry(entry, actor=senior)
                entries.append(entry)
        return entries

    return build


@pytest.fixture
def published(
    hotline_a: Organisation, senior: User, approved_entries: ListBuilder
) -> Callable[..., PublishOutcome]:
    """Approve entries and publish them as the senior analyst (override allowed)."""

    def build(
        urls: Sequence[str] = (), domains: Sequence[str] = (), hosts: Sequence[str] = ()
    ) -> PublishOutcome:
        approved_entries(urls, domains, hosts)
        return do_publish(hotline_a, actor=senior, override=True)

    return build
