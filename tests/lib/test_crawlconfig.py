"""The crawler's settings: a malformed value stops start-up with the setting's name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from openhotline.lib.crawlconfig import dns_servers, fetch_allow, proxy_url, render_mode


def test_the_allow_list_is_parsed_into_networks() -> None:
    networks = fetch_allow("OPENHOTLINE_FETCH_ALLOW", "127.0.0.1, 10.1.0.0/16,::1")
    assert [str(n) for n in networks] == ["127.0.0.1/32", "10.1.0.0/16", "::1/128"]
    assert fetch_allow("OPENHOTLINE_FETCH_ALLOW", "") == ()


@pytest.mark.parametrize("value", ["127.0.0.1,localhost", "10.0.0.0/33", "1.2.3"])
def test_a_malformed_allow_entry_names_the_setting(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="^OPENHOTLINE_FETCH_ALLOW: "):
        fetch_allow("OPENHOTLINE_FETCH_ALLOW", value)


def test_render_modes() -> None:
    assert render_mode("R", "Always") == "always" and render_mode("R", "") == "off"
    with pytest.raises(ImproperlyConfigured, match="^R: expected one of off, when-no-media"):
        render_mode("R", "sometimes")


@pytest.mark.parametrize(
    "value", ["socks5h://127.0.0.1:9050", "http://user:pw@proxy.test:3128", "socks4://[::1]:1080"]
)
def test_proxy_urls_are_accepted(value: str) -> None:
    assert proxy_url("P", value) == value


@pytest.mark.parametrize(
    "value", ["ftp://proxy.test", "127.0.0.1:9050", "socks5://:1080", "http://h:x"]
)
def test_bad_proxy_urls_name_the_setting(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="^P: "):
        proxy_url("P", value)


def test_dns_servers_take_an_optional_port() -> None:
    assert dns_servers("D", "9.9.9.9, 127.0.0.1:5353,[::1]:53, ::1") == [
        ("9.9.9.9", 53),
        ("127.0.0.1", 5353),
        ("::1", 53),
        ("::1", 53),
    ]
    with pytest.raises(ImproperlyConfigured, match="^D: 'dns.test' is not an IP address"):
        dns_servers("D", "dns.test")
    with pytest.raises(ImproperlyConfigured, match="^D: bad port"):
        dns_servers("D", "127.0.0.1:99999")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENHOTLINE_FETCH_ALLOW", "127.0.0.1,not-an-address"),
        ("OPENHOTLINE_CRAWL_PROXY", "gopher://x"),
        ("OPENHOTLINE_CRAWL_RENDER", "never"),
        ("OPENHOTLINE_GEOIP_MMDB", "/nonexistent/geo.mmdb"),
    ],
)
def test_openhotline_refuses_to_start_with_a_bad_crawler_setting(
    tmp_path: Path, name: str, value: str
) -> None:
    env = {**os.environ, "OPENHOTLINE_DATA": str(tmp_path), name: value}
    done = subprocess.run(
        [sys.executable, "-m", "openhotline", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"openhotline: configuration error: {name}: ")
