"""Headers: a nonce-based CSP without inline script or style, HSTS as set,
no-store on staff and police pages, the proxy's TLS header; and a production
configuration that Django's deploy checks pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.models import User
from openhotline.lib.blobcrypto import KeyRing

pytestmark = pytest.mark.django_db


def policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_every_page_has_a_strict_content_security_policy(db: Any) -> None:
    response = Client().get("/accounts/login/")
    csp = policy(response)
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive]
        assert "'unsafe-eval'" not in csp.get(directive, [])
        assert csp[directive][0] == "'self'"
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]


@pytest.mark.parametrize("path", ["/app/", "/lea/referrals/", "/app/stats/"])
def test_staff_and_police_pages_are_never_stored(
    path: str, as_user: Any, admin: User, police: User
) -> None:
    client = as_user(police if path.startswith("/lea/") else admin)
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_login_page_and_api_answers_are_never_stored(db: Any) -> None:
    assert "no-store" in Client().get("/accounts/login/")["Cache-Control"]
    assert "no-store" in Client().get("/api/v1/openapi.json")["Cache-Control"]


def test_hsts_and_the_proxy_tls_header_follow_the_settings(db: Any, settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = Client().get("/accounts/login/")
    assert "Strict-Transport-Security" not in plain  # never over plain HTTP
    behind_tls = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert behind_tls["Strict-Transport-Security"].startswith("max-age=31536000")


# The production settings documented in docs/operations.md.
PRODUCTION = {
    "OPENHOTLINE_ENV": "production",
    "OPENHOTLINE_ALLOWED_HOSTS": "hotline.example.test",
    "OPENHOTLINE_CSRF_TRUSTED_ORIGINS": "https://hotline.example.test",
    "OPENHOTLINE_BASE_URL": "https://hotline.example.test",
    "OPENHOTLINE_PROXY_TLS_HEADER": "X-Forwarded-Proto",
    "OPENHOTLINE_SSL_REDIRECT": "true",
    "OPENHOTLINE_HSTS_SECONDS": "31536000",
    "OPENHOTLINE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "OPENHOTLINE_HSTS_PRELOAD": "true",
}


def run_production(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    data.chmod(0o700)
    keyring = tmp_path / "keyring.json"
    keyring.write_text(KeyRing.generate("k1").to_json())
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OPENHOTLINE_") and k not in {"DATABASE_URL", "CELERY_BROKER_URL"}
    }
    environ.update(
        {
            "OPENHOTLINE_DATA": str(data),
            "OPENHOTLINE_SECRET_KEY": "s" * 10
            + "ecret-key-for-the-deploy-check-0123456789abcdefghijk",
            "OPENHOTLINE_INTAKE_KEY": "intake-key-for-the-deploy-check",
            "OPENHOTLINE_AUDIT_KEY": "audit-key-for-the-deploy-check",
            "OPENHOTLINE_AUDIT_CHECKPOINT_KEY": "checkpoint-key-for-the-deploy-check",
            "OPENHOTLINE_FEDERATION_KEY": "federation-key-for-the-deploy-check",
            "OPENHOTLINE_EVIDENCE_KEYRING_FILE": str(keyring),
            **PRODUCTION,
            **extra,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "openhotline", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
        check=False,
    )


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path: Path) -> None:
    result = run_production(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # And the documentation names every one of them.
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    for name in PRODUCTION:
        assert name in guide, name


def test_production_refuses_logins_without_a_second_factor(tmp_path: Path) -> None:
    result = run_production(tmp_path, "check", OPENHOTLINE_REQUIRE_2FA="false")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "OPENHOTLINE_REQUIRE_2FA" in lines[0], result.stderr


def test_production_without_a_second_factor_on_purpose_still_warns(tmp_path: Path) -> None:
    result = run_production(
        tmp_path,
        "check",
        "--deploy",
        OPENHOTLINE_REQUIRE_2FA="false",
        OPENHOTLINE_ALLOW_PASSWORD_ONLY_LOGIN="true",
    )
    assert "OPENHOTLINE_REQUIRE_2FA" in result.stderr + result.stdout
