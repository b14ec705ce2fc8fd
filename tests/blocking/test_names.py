from __future__ import annotations

import pytest

from openhotline.blocking.names import EntryValueError, canonical_entry, dns_name_problem


def test_a_url_entry_keeps_the_canonical_url_and_blocks_its_host() -> None:
    assert canonical_entry("HTTP://WWW.Gallery.TEST:80/a/../b#x", "url") == (
        "http://www.gallery.test/b",
        "www.gallery.test",
    )


@pytest.mark.parametrize("given", ["bad.test", "*.bad.test", "https://Bad.Test/some/page"])
def test_a_domain_entry_is_the_bare_host_name(given: str) -> None:
    assert canonical_entry(given, "domain") == ("bad.test", "bad.test")


def test_international_names_become_punycode() -> None:
    assert canonical_entry("bücher.test", "domain")[1] == "xn--bcher-kva.test"


@pytest.mark.parametrize(
    ("value", "kind", "why"),
    [
        ("http://192.0.2.7/x", "url", "IP address"),
        ("http://abcdefghijklmnop.onion/", "url", ".onion"),
        ("co.uk", "domain", "public suffix"),
        ("com", "domain", "single label"),
        ("blogspot.com", "domain", "public suffix"),
        ("ftp://bad.test/", "url", "Only http and https"),
        ("bad.1a", "domain", "top-level"),
        ("http://-bad.test/", "url", "invalid label"),
    ],
)
def test_names_dns_cannot_or_must_not_block_are_refused(value: str, kind: str, why: str) -> None:
    with pytest.raises(EntryValueError, match=why):
        canonical_entry(value, kind)


def test_a_url_on_a_host_that_is_a_public_suffix_blocks_only_that_name() -> None:
    # "github.io" as a URL host is one name; as a domain entry it would cover every site.
    assert dns_name_problem("github.io", kind="url") == ""
    assert "public suffix" in dns_name_problem("github.io", kind="domain")


def test_a_label_over_63_characters_is_malformed() -> None:
    assert "invalid label" in dns_name_problem("a" * 64 + ".test", kind="url")
