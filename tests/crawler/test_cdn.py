"""CDN detection from the dated range files shipped in openhotline/crawler/data/cdn/."""

from __future__ import annotations

from pathlib import Path

import pytest

from openhotline.crawler.cdn import CdnRangesError, load_providers, parse_ranges, provider_for


def test_every_shipped_list_has_a_name_a_date_and_networks() -> None:
    providers = load_providers()
    assert {p.name for p in providers} >= {"Cloudflare", "Fastly", "Amazon CloudFront", "Akamai"}
    for provider in providers:
        assert provider.as_of and provider.source and provider.networks, provider.name


@pytest.mark.parametrize(
    ("address", "name"),
    [
        ("104.16.132.229", "Cloudflare"),
        ("2606:4700::6810:84e5", "Cloudflare"),
        ("151.101.1.69", "Fastly"),
        ("13.32.1.1", "Amazon CloudFront"),
        ("193.0.6.139", None),
        ("127.0.0.1", None),
    ],
)
def test_addresses_are_matched_to_their_provider(address: str, name: str | None) -> None:
    found = provider_for(address, load_providers())
    assert (found.name if found else None) == name


def test_a_malformed_line_names_the_file_and_line() -> None:
    with pytest.raises(CdnRangesError, match="x.txt, line 3"):
        parse_ranges("# provider: X\n10.0.0.0/8\nnot-a-network\n", "x.txt")


def test_an_operator_directory_replaces_and_adds_lists(tmp_path: Path) -> None:
    (tmp_path / "cloudflare.txt").write_text(
        "# provider: Cloudflare\n# as-of: 2099-01-01\n1.2.3.0/24\n"
    )
    (tmp_path / "local.txt").write_text("# provider: Local Proxy\n127.0.0.1/32\n")
    providers = load_providers(str(tmp_path))
    cloudflare = next(p for p in providers if p.name == "Cloudflare")
    assert cloudflare.as_of == "2099-01-01" and provider_for("104.16.0.1", providers) is None
    assert provider_for("127.0.0.1", providers).name == "Local Proxy"  # type: ignore[union-attr]
