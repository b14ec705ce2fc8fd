"""Settings for openhotline: one file, every knob from the environment.

It reads like a table: Django's own settings first, then one group per app,
each under a heading comment naming the guide that explains it (README.md
lists the general ones), and last the periodic task schedule, in one place.
SQLite in ``OPENHOTLINE_DATA`` is the default; ``DATABASE_URL`` selects
PostgreSQL and ``CELERY_BROKER_URL`` a Redis or RabbitMQ broker.

Reading this file creates no directory and no database file: the data
directory, its SQLite files and the static root are prepared at start-up
(``openhotline/ops/datadir.py``, run by the ops app). Only a secret that is
generated outside production is written here, where it is first needed.
This file imports no app, only ``openhotline.lib``.
"""

from __future__ import annotations

import os
import re
import socket
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from openhotline.lib import crawlconfig
from openhotline.lib.envconfig import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_secret,
    env_str,
)
from openhotline.lib.privatefiles import others_access

BASE_DIR = Path(__file__).resolve().parent

OPENHOTLINE_ENV = env_str("OPENHOTLINE_ENV", "development")
if OPENHOTLINE_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"OPENHOTLINE_ENV: expected development or production, got {OPENHOTLINE_ENV!r}"
    )
PRODUCTION = OPENHOTLINE_ENV == "production"

# --- Private data (docs/operations.md) -------------------------------------------
# The data directory holds password hashes, TOTP seeds, session keys, secrets and
# evidence: everything this process creates is for its own account only, whatever
# the umask of the shell or service manager that started it. Production refuses a
# directory others can read; a missing one is made (0700) at start-up by
# openhotline/ops/datadir.py.
DATA_DIR = Path(env_str("OPENHOTLINE_DATA", "var")).resolve()
os.umask(0o077)
if PRODUCTION and DATA_DIR.is_dir() and others_access(DATA_DIR):
    raise ImproperlyConfigured(
        f"OPENHOTLINE_DATA: {DATA_DIR} can be read by group or others "
        f"(mode {stat.S_IMODE(DATA_DIR.stat().st_mode):04o}); run chmod 700 {DATA_DIR}"
    )

SECRET_KEY = env_secret("OPENHOTLINE_SECRET_KEY", data_dir=DATA_DIR, generate=not PRODUCTION)
DEBUG = env_bool("OPENHOTLINE_DEBUG", False)
ALLOWED_HOSTS = env_list("OPENHOTLINE_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("OPENHOTLINE_CSRF_TRUSTED_ORIGINS", [])
OPENHOTLINE_BASE_URL = env_str("OPENHOTLINE_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    # For its translated country names (notices say "i Danmark", the filters "Danemark").
    "django_countries",
    "openhotline.accounts",
    "openhotline.audit",
    "openhotline.reports",
    "openhotline.ops",
    "openhotline.evidence",
    "openhotline.assessment",
    "openhotline.intake",
    "openhotline.blocking",
    "openhotline.crawler",
    "openhotline.matching",
    "openhotline.network",
    "openhotline.takedown",
    "openhotline.stats",
    # Federation between installations (docs/federation.md), above network and stats.
    "openhotline.federation",
    "openhotline.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "openhotline.ops.headers.NoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # After the CSRF check: a NUL in any field is a 400/422, never a database error.
    "openhotline.lib.nulchars.RefuseNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "openhotline.urls"
WSGI_APPLICATION = "openhotline.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "assessment:queue"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "openhotline.accounts.context_processors.navigation",
            ]
        },
    }
]


def _database(url: str) -> dict[str, Any]:
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "openhotline.sqlite3",
            "OPTIONS": {
                # WAL lets the web server read while a worker writes; IMMEDIATE
                # takes the write lock up front so two writers queue instead of
                # failing with "database is locked" half-way through.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("OPENHOTLINE_SQLITE_TIMEOUT", 30, minimum=1),
            },
        }
    scheme = url.split(":", 1)[0].lower()
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL: unsupported scheme {scheme!r} (use sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST/NAME)"
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
    if scheme == "sqlite":
        config["OPTIONS"] = _database("")["OPTIONS"]
    else:
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database(env_str("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("da", "Dansk"),
    ("nl", "Nederlands"),
    ("de", "Deutsch"),
    ("fr", "Français"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# The project-wide stylesheet (openhotline/static/) belongs to no app: list it.
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("OPENHOTLINE_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("OPENHOTLINE_SESSION_SECONDS", 8 * 3600, minimum=60)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Not "no-referrer": under it browsers send "Origin: null" with every form post,
# which Django's CSRF check refuses. "same-origin" still sends nothing to other sites.
SECURE_REFERRER_POLICY = "same-origin"

# --- Headers: CSP, HSTS, TLS behind a proxy, no-store (docs/operations.md) -------------
# Scripts and styles come from our own static files only; no inline script, no
# style attribute. A nonce is there for the rare page that needs an inline block.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# HSTS is sent on HTTPS answers only; 0 sends none (set it once TLS works for good).
SECURE_HSTS_SECONDS = env_int("OPENHOTLINE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("OPENHOTLINE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("OPENHOTLINE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy: the header that says the client used HTTPS
# (X-Forwarded-Proto: https). Only set it if the proxy overwrites what clients send.
_proxy_tls_header = env_str("OPENHOTLINE_PROXY_TLS_HEADER")
if _proxy_tls_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_tls_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("OPENHOTLINE_SSL_REDIRECT", False)
# A load balancer's health checks may come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Staff log in with a TOTP code unless this is turned off (the demo turns it off).
OPENHOTLINE_REQUIRE_2FA = env_bool("OPENHOTLINE_REQUIRE_2FA", True)
# Production refuses password-only logins unless this says it is meant (and warns).
OPENHOTLINE_ALLOW_PASSWORD_ONLY_LOGIN = env_bool("OPENHOTLINE_ALLOW_PASSWORD_ONLY_LOGIN", False)
if PRODUCTION and not OPENHOTLINE_REQUIRE_2FA and not OPENHOTLINE_ALLOW_PASSWORD_ONLY_LOGIN:
    raise ImproperlyConfigured(
        "OPENHOTLINE_REQUIRE_2FA: false in production would let staff and police log in "
        "with a password alone (set OPENHOTLINE_ALLOW_PASSWORD_ONLY_LOGIN=true if that is meant)"
    )
OTP_TOTP_ISSUER = env_str("OPENHOTLINE_OTP_ISSUER", "openhotline")

# --- Logins: throttling (django-axes) and the client address (docs/operations.md) ---
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins (a wrong password or a wrong code) lock the account, from any
# address, and the address, for any account, for the cool-off time.
AXES_FAILURE_LIMIT = env_int("OPENHOTLINE_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("OPENHOTLINE_LOGIN_LOCK_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Guessing on during a lock does not prolong it: nobody can lock a user out for good.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ADMIN = False
AXES_CLIENT_IP_CALLABLE = "openhotline.lib.clientaddress.client_address"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
# No start-up banner: a configuration error must stay one line on stderr.
AXES_VERBOSE = False
# Behind a reverse proxy: the header it puts the client's address in (X-Forwarded-For);
# empty means REMOTE_ADDR, the only value a client cannot forge without a proxy.
OPENHOTLINE_CLIENT_IP_HEADER = env_str("OPENHOTLINE_CLIENT_IP_HEADER")
# django-otp's own back-off doubles with every wrong code and never ends while
# someone who knows the password keeps guessing: the account lock above bounds
# code guesses instead, and ends after its cool-off.
OTP_TOTP_THROTTLE_FACTOR = 0

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or f"sqla+sqlite:///{DATA_DIR / 'broker.sqlite3'}"
_broker_scheme = CELERY_BROKER_URL.split(":", 1)[0].lower()
if _broker_scheme not in {"sqla+sqlite", "sqla+postgresql", "redis", "rediss", "amqp", "amqps"}:
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL: unsupported scheme {_broker_scheme!r} "
        "(use redis://, amqp:// or leave unset for the embedded broker)"
    )
CELERY_TASK_ALWAYS_EAGER = env_bool("OPENHOTLINE_TASKS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker died is put back on the queue instead of being lost.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "openhotline.crawler.tasks.*": {"queue": "crawl"},
    "openhotline.evidence.tasks.*": {"queue": "media"},
    "openhotline.matching.tasks.*": {"queue": "media"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
if _broker_scheme in {"redis", "rediss"}:
    # How long an unacknowledged task waits before another worker gets it.
    # Tasks are idempotent, so a redelivery is harmless.
    _visibility = env_int("OPENHOTLINE_VISIBILITY_TIMEOUT", 3600, minimum=1)
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "visibility_timeout": _visibility,
            # Sweep for expired unacknowledged tasks often enough for the
            # timeout to mean what it says (kombu's default is every ~100 s).
            "unacked_restore_interval": max(1, min(10, _visibility // 2)),
            "unacked_restore_throttle": 1,
            # A worker killed while it sweeps keeps kombu's sweep lock until
            # the lock expires (kombu's default: 300 s), and no other worker
            # can hand its tasks on until then. The sweep takes milliseconds.
            "unacked_mutex_expire": max(5, min(300, _visibility)),
        }
    )
CELERY_WORKER_HEARTBEAT_SECONDS = env_float("OPENHOTLINE_WORKER_HEARTBEAT_SECONDS", 15.0)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Any number of workers may run --beat: only the holder of the leader lock sends (ops/beat.py).
CELERY_BEAT_SCHEDULER = "openhotline.ops.beat:LeaderScheduler"
CELERY_TIMEZONE = "UTC"

OPENHOTLINE_WORKER_STALE_SECONDS = env_int("OPENHOTLINE_WORKER_STALE_SECONDS", 90, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("OPENHOTLINE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs every login at INFO; failures and locks are WARNING.
        "axes": {"level": "WARNING"},
        # boto3 (the S3 evidence store) logs where it found credentials at INFO.
        "botocore": {"level": "WARNING"},
    },
}

# --- Evidence store ------------------------------------------------------------
OPENHOTLINE_EVIDENCE_DIR = Path(env_str("OPENHOTLINE_EVIDENCE_DIR", str(DATA_DIR / "evidence")))
# Empty: the directory above. s3://bucket/prefix: an S3-compatible bucket, reached
# with the standard AWS variables (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, keys or
# AWS_PROFILE); see docs/deploy.md.
OPENHOTLINE_EVIDENCE_URL = env_str("OPENHOTLINE_EVIDENCE_URL", "")
if OPENHOTLINE_EVIDENCE_URL and not re.fullmatch(
    r"s3://[a-z0-9][a-z0-9.-]{1,62}(/.*)?", OPENHOTLINE_EVIDENCE_URL
):
    raise ImproperlyConfigured(
        f"OPENHOTLINE_EVIDENCE_URL: {OPENHOTLINE_EVIDENCE_URL!r} is not s3://bucket/prefix"
    )
# Seconds between evidence sweeps; an item waiting this long to be hashed is queued again.
OPENHOTLINE_HASH_SWEEP_SECONDS = env_int("OPENHOTLINE_HASH_SWEEP_SECONDS", 600, minimum=10)
# Seconds a rendered *blurred* thumbnail is kept in Django's cache (0: never). Sharper
# previews are never cached.
OPENHOTLINE_THUMBNAIL_CACHE_SECONDS = env_int(
    "OPENHOTLINE_THUMBNAIL_CACHE_SECONDS", 3600, minimum=0
)
OPENHOTLINE_EVIDENCE_KEYRING_FILE = Path(
    env_str(
        "OPENHOTLINE_EVIDENCE_KEYRING_FILE", str(DATA_DIR / "secrets" / "evidence-keyring.json")
    )
)
# Evidence bytes per hotline past which its admins see a storage alarm (0: no alarm).
OPENHOTLINE_EVIDENCE_ALARM_BYTES = env_int(
    "OPENHOTLINE_EVIDENCE_ALARM_BYTES", 100 * 1024 * 1024 * 1024, minimum=0
)
OPENHOTLINE_VIDEO_FPS = env_float("OPENHOTLINE_VIDEO_FPS", 1.0)
OPENHOTLINE_VIDEO_MAX_SECONDS = env_float("OPENHOTLINE_VIDEO_MAX_SECONDS", 3600.0)
# Image decoding (lib/imagedecode.py): the most pixels one decode may produce (JPEGs
# count after reduced decoding), and the memory all decodes of a process share.
OPENHOTLINE_IMAGE_MAX_PIXELS = env_int("OPENHOTLINE_IMAGE_MAX_PIXELS", 16_000_000, minimum=10_000)
OPENHOTLINE_IMAGE_DECODE_MEMORY = env_int(
    "OPENHOTLINE_IMAGE_DECODE_MEMORY", 128 * 1024 * 1024, minimum=1024 * 1024
)
if (
    PRODUCTION
    and not env_str("OPENHOTLINE_EVIDENCE_KEYRING")
    and not OPENHOTLINE_EVIDENCE_KEYRING_FILE.exists()
):
    raise ImproperlyConfigured(
        "OPENHOTLINE_EVIDENCE_KEYRING_FILE: no evidence key ring at "
        f"{OPENHOTLINE_EVIDENCE_KEYRING_FILE} (production never generates keys)"
    )

# --- Intake: public form, partner API, e-mail reports (docs/intake.md) -----------
# The hotline that receives public reports at /report/ (its slug); empty means the
# only hotline of the installation. /report/<slug>/ reaches any hotline.
OPENHOTLINE_PUBLIC_HOTLINE = env_str("OPENHOTLINE_PUBLIC_HOTLINE")
# Master secret of intake: reporter e-mail encryption, the keyed hash of reporters'
# addresses for rate limiting, and the key of stored e-mail reports are derived from it.
OPENHOTLINE_INTAKE_KEY = env_secret(
    "OPENHOTLINE_INTAKE_KEY", data_dir=DATA_DIR, generate=not PRODUCTION
)
OPENHOTLINE_INTAKE_RATE_LIMIT = env_int("OPENHOTLINE_INTAKE_RATE_LIMIT", 10, minimum=1)
OPENHOTLINE_INTAKE_RATE_WINDOW = env_int("OPENHOTLINE_INTAKE_RATE_WINDOW", 600, minimum=1)
if OPENHOTLINE_INTAKE_RATE_WINDOW > 86400:
    raise ImproperlyConfigured("OPENHOTLINE_INTAKE_RATE_WINDOW: at most 86400 seconds (a day)")
# Behind a reverse proxy: the header it puts the client address in (X-Forwarded-For).
OPENHOTLINE_INTAKE_CLIENT_IP_HEADER = env_str("OPENHOTLINE_INTAKE_CLIENT_IP_HEADER")
OPENHOTLINE_INTAKE_MAX_BODY = env_int("OPENHOTLINE_INTAKE_MAX_BODY", 256 * 1024, minimum=1024)
OPENHOTLINE_INTAKE_MAX_URLS = env_int("OPENHOTLINE_INTAKE_MAX_URLS", 50, minimum=1)
OPENHOTLINE_INTAKE_MAX_URL_LENGTH = env_int("OPENHOTLINE_INTAKE_MAX_URL_LENGTH", 2048, minimum=64)
# Query parameters dropped from every reported URL besides utm_*, fbclid, gclid, mc_eid
# and the like (openhotline/lib/urlnorm.py), comma-separated; "name*" drops a prefix.
OPENHOTLINE_TRACKING_PARAMS = env_list("OPENHOTLINE_TRACKING_PARAMS", [])
OPENHOTLINE_REPORTER_EMAIL_RETENTION_DAYS = env_int(
    "OPENHOTLINE_REPORTER_EMAIL_RETENTION_DAYS", 90, minimum=1
)
# A URL assessed less than this many days ago is linked, not assessed again.
OPENHOTLINE_DECONFLICTION_DAYS = env_int("OPENHOTLINE_DECONFLICTION_DAYS", 30, minimum=0)
OPENHOTLINE_IDEMPOTENCY_HOURS = env_int("OPENHOTLINE_IDEMPOTENCY_HOURS", 24, minimum=1)
OPENHOTLINE_INTAKE_IMAP_HOST = env_str("OPENHOTLINE_INTAKE_IMAP_HOST")
OPENHOTLINE_INTAKE_IMAP_PORT = env_int("OPENHOTLINE_INTAKE_IMAP_PORT", 993, minimum=1)
OPENHOTLINE_INTAKE_IMAP_USER = env_str("OPENHOTLINE_INTAKE_IMAP_USER")
OPENHOTLINE_INTAKE_IMAP_PASSWORD = (
    env_secret("OPENHOTLINE_INTAKE_IMAP_PASSWORD", data_dir=DATA_DIR, generate=False)
    if OPENHOTLINE_INTAKE_IMAP_HOST
    else ""
)
OPENHOTLINE_INTAKE_IMAP_MAILBOX = env_str("OPENHOTLINE_INTAKE_IMAP_MAILBOX", "INBOX")
# A PEM file of CA certificates to trust instead of the system's (a private mail server).
OPENHOTLINE_INTAKE_IMAP_CA_FILE = env_str("OPENHOTLINE_INTAKE_IMAP_CA_FILE")
OPENHOTLINE_INTAKE_IMAP_POLL_SECONDS = env_int(
    "OPENHOTLINE_INTAKE_IMAP_POLL_SECONDS", 60, minimum=5
)
# Addresses (alice@partner.example) or whole domains (@partner.example) that may report.
OPENHOTLINE_INTAKE_MAIL_ALLOWED_SENDERS = env_list("OPENHOTLINE_INTAKE_MAIL_ALLOWED_SENDERS")
OPENHOTLINE_INTAKE_MAIL_HOTLINE = env_str("OPENHOTLINE_INTAKE_MAIL_HOTLINE")
OPENHOTLINE_INTAKE_MAIL_MAX_BYTES = env_int(
    "OPENHOTLINE_INTAKE_MAIL_MAX_BYTES", 10 * 1024 * 1024, minimum=1024
)
OPENHOTLINE_INTAKE_MAIL_DIR = Path(
    env_str("OPENHOTLINE_INTAKE_MAIL_DIR", str(DATA_DIR / "evidence" / "mail"))
)

# --- Blocking: blocklist guards, exports and the stop page (docs/blocking.md) ---
# Guards: a publication changing more than this share of the live list needs a
# senior analyst's override; the share is taken of at least CHANGE_BASE entries,
# so that a small list cannot be swamped in one step either.
OPENHOTLINE_BLOCKLIST_MAX_CHANGE_SHARE = env_float("OPENHOTLINE_BLOCKLIST_MAX_CHANGE_SHARE", 0.10)
OPENHOTLINE_BLOCKLIST_CHANGE_BASE = env_int("OPENHOTLINE_BLOCKLIST_CHANGE_BASE", 50, minimum=1)
# A domain-level entry is refused over a domain with this many distinct URLs assessed not illegal.
OPENHOTLINE_BLOCKLIST_MAX_NOT_ILLEGAL_URLS = env_int(
    "OPENHOTLINE_BLOCKLIST_MAX_NOT_ILLEGAL_URLS", 5, minimum=1
)
# Hours after which a confirmed illegal URL still online is proposed for blocking,
# per hotline country: "DK=48,NL=off,*=72" ("off": never; "*": every other country).
OPENHOTLINE_BLOCKLIST_PROPOSE_AFTER_HOURS = env_str(
    "OPENHOTLINE_BLOCKLIST_PROPOSE_AFTER_HOURS", "*=72"
)
# Exports: RPZ zone name and TTL, the default action (local-data, cname or nxdomain)
# and the stop page's addresses (for local data) and host name (for CNAME).
OPENHOTLINE_RPZ_ZONE = env_str("OPENHOTLINE_RPZ_ZONE", "rpz.openhotline.invalid")
OPENHOTLINE_RPZ_TTL = env_int("OPENHOTLINE_RPZ_TTL", 300, minimum=1)
OPENHOTLINE_BLOCKLIST_ACTION = env_str("OPENHOTLINE_BLOCKLIST_ACTION", "local-data")
if OPENHOTLINE_BLOCKLIST_ACTION not in {"local-data", "cname", "nxdomain"}:
    raise ImproperlyConfigured(
        "OPENHOTLINE_BLOCKLIST_ACTION: expected local-data, cname or nxdomain, "
        f"got {OPENHOTLINE_BLOCKLIST_ACTION!r}"
    )
OPENHOTLINE_STOPPAGE_ADDRESSES = env_list("OPENHOTLINE_STOPPAGE_ADDRESSES", [])
OPENHOTLINE_STOPPAGE_HOST = env_str("OPENHOTLINE_STOPPAGE_HOST", "")
# Stop page: who implements the block (the Link rel="blocked-by" target), the default
# help service, and whether to keep a daily count of visits per blocked name.
# The hotline's public web address, as visitors of the stop page reach it (not the
# staff application's address, which may be internal or a development port): the
# stop page's blocked-by and complaint links are made absolute on it.
OPENHOTLINE_PUBLIC_BASE_URL = env_str("OPENHOTLINE_PUBLIC_BASE_URL", OPENHOTLINE_BASE_URL)
# A URL, or a path on the public site ("/"); empty means the public base URL.
OPENHOTLINE_STOPPAGE_BLOCKED_BY_URL = env_str("OPENHOTLINE_STOPPAGE_BLOCKED_BY_URL", "")
# Where visitors complain about a wrong block when a hotline sets nothing and has no
# contact address: an e-mail address, a URL or a path on the public site.
OPENHOTLINE_STOPPAGE_COMPLAINT = env_str("OPENHOTLINE_STOPPAGE_COMPLAINT", "")
OPENHOTLINE_STOPPAGE_HELP_NAME = env_str("OPENHOTLINE_STOPPAGE_HELP_NAME", "Troubled Desire")
OPENHOTLINE_STOPPAGE_HELP_URL = env_str(
    "OPENHOTLINE_STOPPAGE_HELP_URL", "https://troubled-desire.com/"
)
OPENHOTLINE_STOPPAGE_DAILY_COUNT = env_bool("OPENHOTLINE_STOPPAGE_DAILY_COUNT", False)

# --- Crawler: safe fetching, hosting trace, rendering (docs/crawler.md) -------------
# Addresses the crawler may fetch although they are internal (loopback, private…):
# comma-separated addresses or networks. Empty: only public addresses.
OPENHOTLINE_FETCH_ALLOW = crawlconfig.fetch_allow(
    "OPENHOTLINE_FETCH_ALLOW", env_str("OPENHOTLINE_FETCH_ALLOW")
)
OPENHOTLINE_CRAWL_PAGE_MAX_BYTES = env_int(
    "OPENHOTLINE_CRAWL_PAGE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024
)
OPENHOTLINE_CRAWL_MEDIA_MAX_BYTES = env_int(
    "OPENHOTLINE_CRAWL_MEDIA_MAX_BYTES", 50 * 1024 * 1024, minimum=1024
)
# Decoded size of a gzip/brotli body: a compression bomb stops here.
OPENHOTLINE_CRAWL_DECODED_MAX_BYTES = env_int(
    "OPENHOTLINE_CRAWL_DECODED_MAX_BYTES", 60 * 1024 * 1024, minimum=1024
)
OPENHOTLINE_CRAWL_CONNECT_TIMEOUT = env_float("OPENHOTLINE_CRAWL_CONNECT_TIMEOUT", 10.0)
# Total seconds per request (a slow-drip server is cut off here).
OPENHOTLINE_CRAWL_DEADLINE = env_float("OPENHOTLINE_CRAWL_DEADLINE", 60.0)
OPENHOTLINE_CRAWL_MAX_REDIRECTS = env_int("OPENHOTLINE_CRAWL_MAX_REDIRECTS", 10, minimum=0)
OPENHOTLINE_CRAWL_MAX_MEDIA_PER_PAGE = env_int(
    "OPENHOTLINE_CRAWL_MAX_MEDIA_PER_PAGE", 1000, minimum=1
)
OPENHOTLINE_CRAWL_MAX_MEDIA_TOTAL = env_int("OPENHOTLINE_CRAWL_MAX_MEDIA_TOTAL", 5000, minimum=1)
OPENHOTLINE_CRAWL_IFRAME_DEPTH = env_int("OPENHOTLINE_CRAWL_IFRAME_DEPTH", 2, minimum=0)
OPENHOTLINE_CRAWL_VIEWER_DEPTH = env_int("OPENHOTLINE_CRAWL_VIEWER_DEPTH", 1, minimum=0)
# Same-site links to other pages (a gallery's next pages): links deep from the
# reported page (0: none), and pages followed per crawl; domain rules may change both.
OPENHOTLINE_CRAWL_FOLLOW_DEPTH = env_int("OPENHOTLINE_CRAWL_FOLLOW_DEPTH", 1, minimum=0)
OPENHOTLINE_CRAWL_FOLLOW_PAGES = env_int("OPENHOTLINE_CRAWL_FOLLOW_PAGES", 20, minimum=0)
OPENHOTLINE_CRAWL_THREADS = env_int("OPENHOTLINE_CRAWL_THREADS", 16, minimum=1)
OPENHOTLINE_CRAWL_USER_AGENT = env_str(
    "OPENHOTLINE_CRAWL_USER_AGENT",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0 Safari/537.36 openhotline",
)
# http://, socks5://, socks5h:// or socks4://; e.g. Tor: socks5h://127.0.0.1:9050.
# Without one, .onion URLs are refused.
OPENHOTLINE_CRAWL_PROXY = crawlconfig.proxy_url(
    "OPENHOTLINE_CRAWL_PROXY", env_str("OPENHOTLINE_CRAWL_PROXY")
)
# Let the proxy resolve names (needed for Tor: local lookups would leak).
OPENHOTLINE_CRAWL_PROXY_RESOLVES_NAMES = env_bool(
    "OPENHOTLINE_CRAWL_PROXY_RESOLVES_NAMES",
    (OPENHOTLINE_CRAWL_PROXY or "").startswith("socks5h:"),
)
OPENHOTLINE_CRAWL_VERIFY_TLS = env_bool("OPENHOTLINE_CRAWL_VERIFY_TLS", True)
# Headless Chromium: off, when-no-media (the static pass found none) or always.
OPENHOTLINE_CRAWL_RENDER = crawlconfig.render_mode(
    "OPENHOTLINE_CRAWL_RENDER", env_str("OPENHOTLINE_CRAWL_RENDER", "when-no-media")
)
OPENHOTLINE_CHROMIUM_PATH = env_str("OPENHOTLINE_CHROMIUM_PATH", "/usr/bin/chromium")
OPENHOTLINE_CRAWL_RENDER_TIMEOUT = env_float("OPENHOTLINE_CRAWL_RENDER_TIMEOUT", 60.0)
# Crawls of one host at once, across all workers.
OPENHOTLINE_CRAWL_PER_HOST = env_int("OPENHOTLINE_CRAWL_PER_HOST", 2, minimum=1)
# Tries of a page that fails for a passing reason (timeout, refused connection, 503).
OPENHOTLINE_CRAWL_ATTEMPTS = env_int("OPENHOTLINE_CRAWL_ATTEMPTS", 4, minimum=1)
OPENHOTLINE_CRAWL_RETRY_SECONDS = env_int("OPENHOTLINE_CRAWL_RETRY_SECONDS", 60, minimum=0)
# How often a crawl waits for a busy host before it gives up (about 10 s a wait).
OPENHOTLINE_CRAWL_HOST_WAITS = env_int("OPENHOTLINE_CRAWL_HOST_WAITS", 720, minimum=0)
# Bytes one crawl may fetch before the remaining media are recorded as skipped, and
# how far a body may inflate (decoded per received byte, past 1 MiB) before it is
# refused as a decompression bomb.
OPENHOTLINE_CRAWL_BYTE_BUDGET = env_int(
    "OPENHOTLINE_CRAWL_BYTE_BUDGET", 512 * 1024 * 1024, minimum=1024 * 1024
)
OPENHOTLINE_CRAWL_MAX_DECODE_RATIO = env_int("OPENHOTLINE_CRAWL_MAX_DECODE_RATIO", 100, minimum=0)
# DNS for fetches and the hosting trace: "9.9.9.9, [2620:fe::fe]:53"; empty = the system's.
OPENHOTLINE_DNS_SERVERS = crawlconfig.dns_servers(
    "OPENHOTLINE_DNS_SERVERS", env_str("OPENHOTLINE_DNS_SERVERS")
)
OPENHOTLINE_DNS_TIMEOUT = env_float("OPENHOTLINE_DNS_TIMEOUT", 5.0)
# Optional MaxMind/DB-IP databases instead of the shipped GeoLite2-based data.
OPENHOTLINE_GEOIP_MMDB = env_str("OPENHOTLINE_GEOIP_MMDB")
OPENHOTLINE_GEOIP_ASN_MMDB = env_str("OPENHOTLINE_GEOIP_ASN_MMDB")
# Extra or newer CDN range files (openhotline/crawler/data/cdn/README.md).
OPENHOTLINE_CDN_RANGES_DIR = env_str("OPENHOTLINE_CDN_RANGES_DIR")
# RDAP: the IANA bootstrap directory, the client class (empty: no RDAP) and cache life.
OPENHOTLINE_RDAP_BOOTSTRAP_URL = env_str(
    "OPENHOTLINE_RDAP_BOOTSTRAP_URL", "https://data.iana.org/rdap/"
)
OPENHOTLINE_RDAP_CLIENT = env_str("OPENHOTLINE_RDAP_CLIENT", "openhotline.crawler.rdap.RdapClient")
OPENHOTLINE_RDAP_CACHE_HOURS = env_int("OPENHOTLINE_RDAP_CACHE_HOURS", 24 * 7, minimum=1)
# The sweep that queues again crawls whose task was lost (broker restarted, worker
# killed): how often it runs, and how long a new URL or a queued crawl sits untouched
# before it counts as lost (longer than the longest retry delay).
OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS = env_int("OPENHOTLINE_CRAWL_FORGOTTEN_SECONDS", 900, minimum=1)
OPENHOTLINE_CRAWL_SWEEP_SECONDS = env_float("OPENHOTLINE_CRAWL_SWEEP_SECONDS", 600.0)
for _name, _file in (
    ("OPENHOTLINE_GEOIP_MMDB", OPENHOTLINE_GEOIP_MMDB),
    ("OPENHOTLINE_GEOIP_ASN_MMDB", OPENHOTLINE_GEOIP_ASN_MMDB),
):
    if _file and not Path(_file).is_file():
        raise ImproperlyConfigured(f"{_name}: no such file {_file}")

# --- Assessment workspace: queue, claims, priority (docs/analyst-guide.md) ------
# Minutes after which an untouched claim on a reported URL lapses (each hotline's
# admin can change it in the workspace settings).
OPENHOTLINE_CLAIM_IDLE_MINUTES = env_int("OPENHOTLINE_CLAIM_IDLE_MINUTES", 30, minimum=1)
# How often the priority of every open URL is computed again (new reports change it).
OPENHOTLINE_PRIORITY_RECOMPUTE_SECONDS = env_float("OPENHOTLINE_PRIORITY_RECOMPUTE_SECONDS", 3600.0)

# --- Matching: hash sets, PDQ/vPDQ index, hashing API (docs/matching.md) -------------
# The PDQ indexes (images and video frames), shared by every process of this machine.
OPENHOTLINE_MATCHING_INDEX_DIR = Path(
    env_str("OPENHOTLINE_MATCHING_INDEX_DIR", str(DATA_DIR / "index"))
)
# Largest file POST /api/v1/hash and /match accept (kept in memory, never on disk).
OPENHOTLINE_MATCHING_MAX_UPLOAD = env_int(
    "OPENHOTLINE_MATCHING_MAX_UPLOAD", 50 * 1024 * 1024, minimum=1024
)
# A video matches a hash-set video when this share of the frames of each is in the other.
OPENHOTLINE_VPDQ_MATCH_PERCENT = env_float("OPENHOTLINE_VPDQ_MATCH_PERCENT", 80.0)
# Each machine's index follows the database's change log (docs/matching.md): workers
# poll it this often (seconds), and report under this node name (one per index directory).
OPENHOTLINE_INDEX_POLL_SECONDS = env_float("OPENHOTLINE_INDEX_POLL_SECONDS", 1.0)
OPENHOTLINE_NODE_NAME = env_str(
    "OPENHOTLINE_NODE_NAME", f"{socket.gethostname()}:{OPENHOTLINE_MATCHING_INDEX_DIR}"
)
# Index snapshots, for machines that start empty, are named blobs of the evidence store
# (local or S3); a directory here keeps them there instead. How often the sweep writes them.
OPENHOTLINE_INDEX_SNAPSHOTS = env_str("OPENHOTLINE_INDEX_SNAPSHOTS", "")
OPENHOTLINE_INDEX_SNAPSHOT_SECONDS = env_float("OPENHOTLINE_INDEX_SNAPSHOT_SECONDS", 6 * 3600.0)
# /readyz reports a worker machine whose index misses changes older than this (seconds).
OPENHOTLINE_INDEX_MAX_LAG_SECONDS = env_float("OPENHOTLINE_INDEX_MAX_LAG_SECONDS", 300.0)

# --- Network: routing, forwarding, police and the LEA portal (docs/network-and-takedown.md) ---
# Hours a notice to a hoster waits after the police referral, for a hotline whose
# directory entry sets none (each entry has its own, editable by the hotline's admin).
# (A fraction is allowed, as for every interval of the chain: a simulation shortens them.)
OPENHOTLINE_POLICE_FIRST_HOURS = env_float("OPENHOTLINE_POLICE_FIRST_HOURS", 0.0)
if OPENHOTLINE_POLICE_FIRST_HOURS < 0:
    raise ImproperlyConfigured("OPENHOTLINE_POLICE_FIRST_HOURS: must be at least 0")
# Minutes after which an external forward still not sent is queued again (network sweep),
# and seconds between the sweeps that route what a failed receiver left.
OPENHOTLINE_FORWARD_RETRY_MINUTES = env_float("OPENHOTLINE_FORWARD_RETRY_MINUTES", 60.0)
OPENHOTLINE_NETWORK_SWEEP_SECONDS = env_float("OPENHOTLINE_NETWORK_SWEEP_SECONDS", 3600.0)
# Items per download package (the rest comes in the next one) and how long it can be fetched.
OPENHOTLINE_LEA_PACKAGE_MAX_ITEMS = env_int("OPENHOTLINE_LEA_PACKAGE_MAX_ITEMS", 500, minimum=1)
OPENHOTLINE_LEA_PACKAGE_HOURS = env_int("OPENHOTLINE_LEA_PACKAGE_HOURS", 72, minimum=1)
# Items per page of GET /api/v1/lea/items.
OPENHOTLINE_LEA_API_PAGE = env_int("OPENHOTLINE_LEA_API_PAGE", 1000, minimum=1)
# A referral the police have not acknowledged after this long is reminded, once.
OPENHOTLINE_LEA_REMIND_AFTER_HOURS = env_int("OPENHOTLINE_LEA_REMIND_AFTER_HOURS", 24, minimum=1)

# --- Outgoing mail (ops): notices, escalations, forwards (docs/network-and-takedown.md) ---
# Through Django's SMTP backend (openhotline/ops/mailer.py). Security: starttls,
# ssl (implicit TLS, usually port 465) or none.
OPENHOTLINE_MAIL_BACKEND = env_str(
    "OPENHOTLINE_MAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
OPENHOTLINE_SMTP_HOST = env_str("OPENHOTLINE_SMTP_HOST", "localhost")
OPENHOTLINE_SMTP_PORT = env_int("OPENHOTLINE_SMTP_PORT", 587, minimum=1)
OPENHOTLINE_SMTP_SECURITY = env_str("OPENHOTLINE_SMTP_SECURITY", "starttls").lower()
if OPENHOTLINE_SMTP_SECURITY not in {"starttls", "ssl", "none"}:
    raise ImproperlyConfigured(
        "OPENHOTLINE_SMTP_SECURITY: expected starttls, ssl or none, "
        f"got {OPENHOTLINE_SMTP_SECURITY!r}"
    )
OPENHOTLINE_SMTP_USER = env_str("OPENHOTLINE_SMTP_USER")
OPENHOTLINE_SMTP_PASSWORD = (
    env_secret("OPENHOTLINE_SMTP_PASSWORD", data_dir=DATA_DIR, generate=False)
    if OPENHOTLINE_SMTP_USER
    else ""
)
OPENHOTLINE_SMTP_TIMEOUT = env_int("OPENHOTLINE_SMTP_TIMEOUT", 30, minimum=1)
OPENHOTLINE_MAIL_FROM = env_str("OPENHOTLINE_MAIL_FROM", "hotline@localhost")
EMAIL_HOST = OPENHOTLINE_SMTP_HOST
EMAIL_PORT = OPENHOTLINE_SMTP_PORT
EMAIL_HOST_USER = OPENHOTLINE_SMTP_USER
EMAIL_HOST_PASSWORD = OPENHOTLINE_SMTP_PASSWORD
EMAIL_USE_TLS = OPENHOTLINE_SMTP_SECURITY == "starttls"
EMAIL_USE_SSL = OPENHOTLINE_SMTP_SECURITY == "ssl"
EMAIL_TIMEOUT = OPENHOTLINE_SMTP_TIMEOUT
DEFAULT_FROM_EMAIL = OPENHOTLINE_MAIL_FROM

# --- Takedown: notices by SMTP, re-checks until removed (docs/network-and-takedown.md) ---
# Notices are collected and sent per contact every this many minutes; a notice still
# unanswered is sent again after RESEND hours, and escalated after ESCALATE days.
# (A fraction is allowed: 0.5 is every 30 s.)
OPENHOTLINE_NOTICE_BATCH_MINUTES = env_float("OPENHOTLINE_NOTICE_BATCH_MINUTES", 60.0)
if OPENHOTLINE_NOTICE_BATCH_MINUTES <= 0:
    raise ImproperlyConfigured("OPENHOTLINE_NOTICE_BATCH_MINUTES: must be more than 0")
OPENHOTLINE_NOTICE_RESEND_HOURS = env_float("OPENHOTLINE_NOTICE_RESEND_HOURS", 24.0)
OPENHOTLINE_NOTICE_ESCALATE_DAYS = env_float("OPENHOTLINE_NOTICE_ESCALATE_DAYS", 7.0)
# Re-checks: every open illegal URL every RECHECK hours; once it looks gone, confirming
# checks CONFIRM minutes apart until REMOVAL_CHECKS in a row agree. The beat looks for
# due re-checks every SWEEP seconds; a queued re-check holds its case for LEASE minutes
# (at least CONFIRM) so that the next sweep does not queue it again.
OPENHOTLINE_RECHECK_HOURS = env_float("OPENHOTLINE_RECHECK_HOURS", 6.0)
OPENHOTLINE_RECHECK_CONFIRM_MINUTES = env_float("OPENHOTLINE_RECHECK_CONFIRM_MINUTES", 60.0)
OPENHOTLINE_RECHECK_SWEEP_SECONDS = env_float("OPENHOTLINE_RECHECK_SWEEP_SECONDS", 300.0)
OPENHOTLINE_RECHECK_LEASE_MINUTES = env_float("OPENHOTLINE_RECHECK_LEASE_MINUTES", 10.0)
for _name, _value, _least in (
    ("OPENHOTLINE_NOTICE_RESEND_HOURS", OPENHOTLINE_NOTICE_RESEND_HOURS, 0.0),
    ("OPENHOTLINE_NOTICE_ESCALATE_DAYS", OPENHOTLINE_NOTICE_ESCALATE_DAYS, 0.0),
    ("OPENHOTLINE_RECHECK_HOURS", OPENHOTLINE_RECHECK_HOURS, 0.0),
    ("OPENHOTLINE_RECHECK_SWEEP_SECONDS", OPENHOTLINE_RECHECK_SWEEP_SECONDS, 0.0),
    ("OPENHOTLINE_RECHECK_LEASE_MINUTES", OPENHOTLINE_RECHECK_LEASE_MINUTES, 0.0),
    ("OPENHOTLINE_FORWARD_RETRY_MINUTES", OPENHOTLINE_FORWARD_RETRY_MINUTES, 0.0),
    ("OPENHOTLINE_NETWORK_SWEEP_SECONDS", OPENHOTLINE_NETWORK_SWEEP_SECONDS, 0.0),
):
    if _value <= _least:
        raise ImproperlyConfigured(f"{_name}: must be more than 0")
if OPENHOTLINE_RECHECK_CONFIRM_MINUTES < 0:
    raise ImproperlyConfigured("OPENHOTLINE_RECHECK_CONFIRM_MINUTES: must be at least 0")
OPENHOTLINE_REMOVAL_CHECKS = env_int("OPENHOTLINE_REMOVAL_CHECKS", 3, minimum=1)

# --- Statistics: dashboards and the transparency report (docs/statistics.md) ----------
# The public report shows counts from 1 to below this as "< N" (and hides what would reveal one).
OPENHOTLINE_TRANSPARENCY_MIN_COUNT = env_int("OPENHOTLINE_TRANSPARENCY_MIN_COUNT", 10, minimum=1)
# Seconds the public report's figures are kept before they are computed again (0: never).
OPENHOTLINE_TRANSPARENCY_CACHE_SECONDS = env_int(
    "OPENHOTLINE_TRANSPARENCY_CACHE_SECONDS", 600, minimum=0
)
# A hoster is ranked by its median time to removal once it has this many removals.
OPENHOTLINE_STATS_HOSTER_MIN_CASES = env_int("OPENHOTLINE_STATS_HOSTER_MIN_CASES", 5, minimum=1)

# --- Demo: set by `openhotline demo` (README, "Try it") ------------------------------
# Shows the demo mail catcher's mailbox (<data>/demo-mailbox) at /app/demo/mailbox/.
OPENHOTLINE_DEMO = env_bool("OPENHOTLINE_DEMO", False)

# --- Audit log: keyed chain and signed checkpoints (docs/audit.md) ---------------------
# HMAC key of the event chain, and the (separate) secret the Ed25519 checkpoint key
# is derived from. Losing either makes the log unverifiable: back them up.
OPENHOTLINE_AUDIT_KEY = env_secret(
    "OPENHOTLINE_AUDIT_KEY", data_dir=DATA_DIR, generate=not PRODUCTION
)
OPENHOTLINE_AUDIT_CHECKPOINT_KEY = env_secret(
    "OPENHOTLINE_AUDIT_CHECKPOINT_KEY", data_dir=DATA_DIR, generate=not PRODUCTION
)
# Where checkpoints go: an append-only file (one signed JSON line each) and/or syslog
# (a socket path such as /dev/log, or host:port over UDP). Neither: none are written.
OPENHOTLINE_AUDIT_CHECKPOINT_FILE = env_str("OPENHOTLINE_AUDIT_CHECKPOINT_FILE", "")
OPENHOTLINE_AUDIT_CHECKPOINT_SYSLOG = env_str("OPENHOTLINE_AUDIT_CHECKPOINT_SYSLOG", "")
OPENHOTLINE_AUDIT_CHECKPOINT_SECONDS = env_float("OPENHOTLINE_AUDIT_CHECKPOINT_SECONDS", 600.0)

# --- Federation between installations (docs/federation.md) -----------------------------
# The secret the installation's Ed25519 identity is derived from (generated under
# <data>/secrets on first start outside production). Losing it means re-peering.
OPENHOTLINE_FEDERATION_KEY = env_secret(
    "OPENHOTLINE_FEDERATION_KEY", data_dir=DATA_DIR, generate=not PRODUCTION
)
# A signed request older than this (by its "created"), or this far in the future, is refused.
OPENHOTLINE_FEDERATION_MAX_AGE_SECONDS = env_int(
    "OPENHOTLINE_FEDERATION_MAX_AGE_SECONDS", 300, minimum=10
)
# Requests a peer may make per minute before it gets 429.
OPENHOTLINE_FEDERATION_RATE_PER_MINUTE = env_int(
    "OPENHOTLINE_FEDERATION_RATE_PER_MINUTE", 600, minimum=1
)
# Outbox: first retry after this many seconds, doubling up to the maximum.
OPENHOTLINE_FEDERATION_RETRY_SECONDS = env_float("OPENHOTLINE_FEDERATION_RETRY_SECONDS", 10.0)
OPENHOTLINE_FEDERATION_RETRY_MAX_SECONDS = env_float(
    "OPENHOTLINE_FEDERATION_RETRY_MAX_SECONDS", 600.0
)
OPENHOTLINE_FEDERATION_TIMEOUT_SECONDS = env_float("OPENHOTLINE_FEDERATION_TIMEOUT_SECONDS", 20.0)
# Beat: due deliveries, progress reported back, hash-set pulls, deconfliction questions.
OPENHOTLINE_FEDERATION_SWEEP_SECONDS = env_float("OPENHOTLINE_FEDERATION_SWEEP_SECONDS", 30.0)
OPENHOTLINE_FEDERATION_PROGRESS_SECONDS = env_float("OPENHOTLINE_FEDERATION_PROGRESS_SECONDS", 60.0)
OPENHOTLINE_FEDERATION_PULL_SECONDS = env_float("OPENHOTLINE_FEDERATION_PULL_SECONDS", 3600.0)
OPENHOTLINE_FEDERATION_DECONFLICT_SECONDS = env_float(
    "OPENHOTLINE_FEDERATION_DECONFLICT_SECONDS", 300.0
)
# The largest media package sent to (or taken from) a peer; items beyond it are left out.
OPENHOTLINE_FEDERATION_MEDIA_MAX_BYTES = env_int(
    "OPENHOTLINE_FEDERATION_MEDIA_MAX_BYTES", 20 * 1024 * 1024, minimum=1024
)

# --- Periodic tasks: every sweep of every app, run by the one worker started with --beat ---
# docs/architecture.md says what each repairs. Seconds between runs.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "intake-erase-expired": {
        "task": "openhotline.intake.tasks.erase_expired_intake_data",
        "schedule": 3600.0,
    },
    "blocking-propose-overdue": {
        "task": "openhotline.blocking.tasks.propose_overdue_urls",
        "schedule": 3600.0,
    },
    "assessment-recompute-priorities": {
        "task": "openhotline.assessment.tasks.recompute_open_priorities",
        "schedule": OPENHOTLINE_PRIORITY_RECOMPUTE_SECONDS,
    },
    "assessment-expire-claims": {
        "task": "openhotline.assessment.tasks.expire_claims",
        "schedule": 300.0,
    },
    "crawler-purge-rdap-cache": {
        "task": "openhotline.crawler.tasks.purge_rdap_cache",
        "schedule": 86400.0,
    },
    "crawler-queue-forgotten": {
        "task": "openhotline.crawler.tasks.queue_forgotten_crawls",
        "schedule": OPENHOTLINE_CRAWL_SWEEP_SECONDS,
    },
    "matching-snapshot-index": {
        "task": "openhotline.matching.tasks.snapshot_index",
        "schedule": OPENHOTLINE_INDEX_SNAPSHOT_SECONDS,
    },
    "evidence-sweep": {
        "task": "openhotline.evidence.tasks.sweep",
        "schedule": float(OPENHOTLINE_HASH_SWEEP_SECONDS),
    },
    "matching-sweep": {
        "task": "openhotline.matching.tasks.sweep",
        "schedule": float(OPENHOTLINE_HASH_SWEEP_SECONDS),
    },
    "network-sweep": {
        "task": "openhotline.network.tasks.sweep",
        "schedule": OPENHOTLINE_NETWORK_SWEEP_SECONDS,
    },
    "network-purge-packages": {
        "task": "openhotline.network.tasks.purge_packages",
        "schedule": 3600.0,
    },
    "network-remind-referrals": {
        "task": "openhotline.network.tasks.remind_referrals",
        "schedule": 900.0,
    },
    "takedown-send-notices": {
        "task": "openhotline.takedown.tasks.send_notices",
        "schedule": OPENHOTLINE_NOTICE_BATCH_MINUTES * 60.0,
    },
    "takedown-recheck-due": {
        "task": "openhotline.takedown.tasks.recheck_due",
        "schedule": OPENHOTLINE_RECHECK_SWEEP_SECONDS,
    },
    # The statistics facts are kept in step as events happen; the nightly rebuild
    # repairs anything a bulk update went around.
    "stats-rebuild-facts": {
        "task": "openhotline.stats.tasks.rebuild_facts",
        "schedule": 86400.0,
    },
    "audit-write-checkpoint": {
        "task": "openhotline.audit.tasks.write_checkpoint",
        "schedule": OPENHOTLINE_AUDIT_CHECKPOINT_SECONDS,
    },
    "federation-deliver-due": {
        "task": "openhotline.federation.tasks.deliver_due",
        "schedule": OPENHOTLINE_FEDERATION_SWEEP_SECONDS,
    },
    "federation-report-progress": {
        "task": "openhotline.federation.tasks.report_progress",
        "schedule": OPENHOTLINE_FEDERATION_PROGRESS_SECONDS,
    },
    "federation-deconflict": {
        "task": "openhotline.federation.tasks.deconflict_new_urls",
        "schedule": OPENHOTLINE_FEDERATION_DECONFLICT_SECONDS,
    },
    "federation-pull-hash-sets": {
        "task": "openhotline.federation.tasks.pull_hash_sets",
        "schedule": OPENHOTLINE_FEDERATION_PULL_SECONDS,
    },
    "federation-purge-nonces": {
        "task": "openhotline.federation.tasks.purge_nonces",
        "schedule": 600.0,
    },
}
