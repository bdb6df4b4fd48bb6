"""Settings, all from environment variables. The defaults run the demo (sandbox, embedded
Redis, SQLite); ``STOREFRONT_ENV=production`` refuses to start without real secrets.

Every variable is listed with its default and meaning in README.md ("Settings").
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from storefront.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STOREFRONT_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

STOREFRONT_ENV = env_str("STOREFRONT_ENV", "development")
if STOREFRONT_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("STOREFRONT_ENV must be development or production")
PRODUCTION = STOREFRONT_ENV == "production"

_DEV_SECRET_KEY = "dev-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105 - dev default, refused in production
_DEV_CENTRA_SECRET = "sandbox-shared-secret"  # noqa: S105
_DEV_WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)

# -- Centra ------------------------------------------------------------------------------------
CENTRA_API_URL = env_str("CENTRA_API_URL", "http://127.0.0.1:8001/api/checkout/")
CENTRA_SHARED_SECRET = env_str("CENTRA_SHARED_SECRET", "" if PRODUCTION else _DEV_CENTRA_SECRET)
# Several secrets are accepted at once so the endpoint secret can be rotated without downtime.
CENTRA_WEBHOOK_SECRETS = env_list(
    "CENTRA_WEBHOOK_SECRET", [] if PRODUCTION else [_DEV_WEBHOOK_SECRET]
)
WEBHOOK_TOLERANCE_SECONDS = env_int("WEBHOOK_TOLERANCE_SECONDS", 300)
WEBHOOK_COALESCE_SECONDS = env_float("WEBHOOK_COALESCE_SECONDS", 0.2)
WEBHOOK_MAX_BYTES = env_int("WEBHOOK_MAX_BYTES", 256 * 1024)
CENTRA_CONNECT_TIMEOUT = env_float("CENTRA_CONNECT_TIMEOUT", 2.0)
CENTRA_READ_TIMEOUT = env_float("CENTRA_READ_TIMEOUT", 10.0)
# Rebuild pages (hundreds of products with every price) are big answers; shoppers' calls keep
# the short timeout.
CENTRA_CATALOG_READ_TIMEOUT = env_float("CENTRA_CATALOG_READ_TIMEOUT", 60.0)
# The circuit breaker (storefront/circuit.py): after this many consecutive failures (network,
# timeout, 5xx) within the window, calls fail at once without a request; after the reset time
# one probe goes through and its success closes it again. Per process.
CENTRA_BREAKER_FAILURES = env_int("CENTRA_BREAKER_FAILURES", 5)
CENTRA_BREAKER_RESET_SECONDS = env_float("CENTRA_BREAKER_RESET_SECONDS", 15.0)
CENTRA_BREAKER_WINDOW_SECONDS = env_float("CENTRA_BREAKER_WINDOW_SECONDS", 30.0)

# -- the visitor's context ---------------------------------------------------------------------
GEO_COUNTRY_HEADER = env_str("GEO_COUNTRY_HEADER", "CF-IPCountry")
DEFAULT_COUNTRY = env_str("DEFAULT_COUNTRY", "SE").upper()
# API keys of trusted server-side callers (they may pass market/pricelist/language).
STOREFRONT_API_KEYS = env_list("STOREFRONT_API_KEYS", [])
# How many reverse proxies in front of us append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
FRONTEND_ORIGINS = env_list("FRONTEND_ORIGINS", [])
# The visitor's explicit choices, set by the shopper pages after a country or language change.
COUNTRY_COOKIE = env_str("COUNTRY_COOKIE", "country")
LANGUAGE_COOKIE = env_str("LANGUAGE_COOKIE", "language")
# Where the shop's catalog pages put the locale (shop/locale_urls.py): a path template with
# {country} and {language}, lower case in the URL ("{country}/{language}": /se/sv/womens).
SHOP_LOCALE_URL = env_str("SHOP_LOCALE_URL", "{country}/{language}")

# -- checkout proxy ----------------------------------------------------------------------------
# The shopper's Centra token lives in this HttpOnly cookie (Secure in production, SameSite=Lax).
CHECKOUT_TOKEN_COOKIE = env_str("CHECKOUT_TOKEN_COOKIE", "centra_token")
CHECKOUT_COOKIE_SECURE = env_bool("CHECKOUT_COOKIE_SECURE", PRODUCTION)
CHECKOUT_COOKIE_MAX_AGE = env_int("CHECKOUT_COOKIE_MAX_AGE", 30 * 24 * 3600)
# Largest JSON body the proxy passes on; Centra's bodies (address, payment fields) are small.
CHECKOUT_MAX_BODY_BYTES = env_int("CHECKOUT_MAX_BODY_BYTES", 64 * 1024)
# Mutations of one session run one at a time: how long one may hold the lock (above Centra's
# timeouts, so a slow call is never overtaken) and how long the next one waits for it.
CHECKOUT_LOCK_SECONDS = env_float(
    "CHECKOUT_LOCK_SECONDS", CENTRA_CONNECT_TIMEOUT + CENTRA_READ_TIMEOUT + 5.0
)
CHECKOUT_LOCK_WAIT_SECONDS = env_float("CHECKOUT_LOCK_WAIT_SECONDS", 10.0)
# "<count>/<second|minute|hour>"; empty turns a limit off. Auth: per client IP and per email
# for login, register and password-reset-email. Proxy: per client IP for every mutation and
# every call that starts a session, so no single address can spend the BFF's standing with
# Centra (reads of an existing session are left to the edge: no Redis call on the hot path).
RATE_LIMIT_AUTH = env_str("RATE_LIMIT_AUTH", "10/minute")
RATE_LIMIT_PROXY = env_str("RATE_LIMIT_PROXY", "1200/minute")
ACCOUNT_ENUMERATION_SAFE = env_bool("ACCOUNT_ENUMERATION_SAFE", True)  # accounts/services.py
# Staff credentials (the admin's login form and HTTP Basic on the staff API): failed attempts
# per client address and per username; past it every attempt is a 429 until the window ends,
# the right password too, so guessing costs the attacker time instead of the BFF CPU.
RATE_LIMIT_STAFF_LOGIN = env_str("RATE_LIMIT_STAFF_LOGIN", "5/15minutes")

# -- purchase tracking (tracking/, README "Purchase tracking") ------------------------------------
# Nothing is sent for a visitor without consent: the consent cookie must hold one of the
# granted values (the shop's banner writes TRACKING_CONSENT_GRANTED or ..._DENIED; a consent
# manager of your own may write its own name and values instead).
TRACKING_CONSENT_COOKIE = env_str("TRACKING_CONSENT_COOKIE", "consent")
TRACKING_CONSENT_GRANTED = env_str("TRACKING_CONSENT_GRANTED", "granted")
TRACKING_CONSENT_DENIED = env_str("TRACKING_CONSENT_DENIED", "denied")
TRACKING_CONSENT_VALUES = env_list("TRACKING_CONSENT_VALUES", [TRACKING_CONSENT_GRANTED])
TRACKING_CONSENT_MAX_AGE = env_int("TRACKING_CONSENT_MAX_AGE", 180 * 24 * 3600)
# Each sink is off until configured. GA4 Measurement Protocol:
TRACKING_GA4_MEASUREMENT_ID = env_str("TRACKING_GA4_MEASUREMENT_ID", "")
TRACKING_GA4_API_SECRET = env_str("TRACKING_GA4_API_SECRET", "")
TRACKING_GA4_URL = env_str("TRACKING_GA4_URL", "https://www.google-analytics.com/mp/collect")
# Meta Conversions API:
TRACKING_META_PIXEL_ID = env_str("TRACKING_META_PIXEL_ID", "")
TRACKING_META_ACCESS_TOKEN = env_str("TRACKING_META_ACCESS_TOKEN", "")
TRACKING_META_URL = env_str("TRACKING_META_URL", "https://graph.facebook.com")
TRACKING_META_API_VERSION = env_str("TRACKING_META_API_VERSION", "v21.0")
TRACKING_META_TEST_EVENT_CODE = env_str("TRACKING_META_TEST_EVENT_CODE", "")
# A signed JSON webhook for anything else (X-Storefront-Signature, see README):
TRACKING_WEBHOOK_URL = env_str("TRACKING_WEBHOOK_URL", "")
TRACKING_WEBHOOK_SECRET = env_str("TRACKING_WEBHOOK_SECRET", "")
TRACKING_CONNECT_TIMEOUT = env_float("TRACKING_CONNECT_TIMEOUT", 3.0)
TRACKING_READ_TIMEOUT = env_float("TRACKING_READ_TIMEOUT", 10.0)
# Retries per sink: countdowns drawn from 0-B s, 0-2B s, 0-4B s, ... (full jitter), at most
# TRACKING_MAX_RETRIES times; then the event goes to the dead-letter list (the admin's
# "Failed tracking events").
TRACKING_MAX_RETRIES = env_int("TRACKING_MAX_RETRIES", 8)
TRACKING_RETRY_BACKOFF = env_int("TRACKING_RETRY_BACKOFF", 2)
TRACKING_RETRY_BACKOFF_MAX = env_int("TRACKING_RETRY_BACKOFF_MAX", 600)
# How long an order id is remembered as sent, per sink (a reloaded receipt, a repeated
# payment-result, a redelivered task): well past any retry.
TRACKING_DEDUPE_SECONDS = env_int("TRACKING_DEDUPE_SECONDS", 7 * 24 * 3600)
# The Celery queue of the tracking tasks ("celery", the default queue, unless you run separate
# workers for it with -Q).
TRACKING_QUEUE = env_str("TRACKING_QUEUE", "celery")

# -- operator endpoints ---------------------------------------------------------------------------
# /metrics: open in development; in production only with "Authorization: Bearer METRICS_TOKEN"
# (unset there: /metrics is not served at all). /bench/hello, the benchmarks' floor, exists only
# with BENCH_ENDPOINTS=true (the benchmarks set it).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", False)

# -- the edge cache (storefront/edge/, edge/default.vcl) ------------------------------------
# Where a catalog change is purged by surrogate key: one URL per edge, its scheme names the
# kind (storefront/edge/purgers.py): http(s)://varnish:80/ (Varnish with xkey),
# fastly://<api token>@<service id>, cloudflare://<api token>@<zone id>. Empty: no purges.
EDGE_PURGE_URLS = env_list("EDGE_PURGE_URLS", [])
# Catalog pages: hours an edge keeps them (purges keep them fresh), seconds a browser does.
EDGE_MAX_AGE = env_float("EDGE_MAX_AGE", 6.0)
EDGE_BROWSER_MAX_AGE = env_int("EDGE_BROWSER_MAX_AGE", 60)
# A second purge of the same keys this long after the first: a page an edge refetched in the
# moment a web process still answered from its previous index is thrown away too. 0: none.
EDGE_PURGE_REPEAT_SECONDS = env_float("EDGE_PURGE_REPEAT_SECONDS", 2.0)
EDGE_PURGE_TIMEOUT = env_float("EDGE_PURGE_TIMEOUT", 5.0)
if EDGE_MAX_AGE <= 0 or EDGE_BROWSER_MAX_AGE < 0:
    raise ImproperlyConfigured("EDGE_MAX_AGE must be positive, EDGE_BROWSER_MAX_AGE not negative")

# -- Redis, Celery, the catalog cache ------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Web processes fail fast on a stalled Redis and then skip it for a moment (a circuit breaker,
# storefront/redis_client.py); Celery workers, which write big pipelines, wait longer.
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.5)
REDIS_WORKER_SOCKET_TIMEOUT = env_float("REDIS_WORKER_SOCKET_TIMEOUT", 30.0)
REDIS_BREAKER_FAILURES = env_int("REDIS_BREAKER_FAILURES", 2)
REDIS_BREAKER_RESET_SECONDS = env_float("REDIS_BREAKER_RESET_SECONDS", 1.0)
# Documents a web process keeps to answer from its own index while Redis is unreachable.
CATALOG_LOCAL_DOCS_BYTES = env_int("CATALOG_LOCAL_DOCS_BYTES", 32 * 1024 * 1024)
# Webhooks that could not be queued in Redis wait here (one file each, at most this many) and
# are queued as soon as Redis answers again (catalog/spool.py).
WEBHOOK_SPOOL_DIR = Path(env_str("WEBHOOK_SPOOL_DIR", str(VAR_DIR / "webhook-spool")))
WEBHOOK_SPOOL_MAX_FILES = env_int("WEBHOOK_SPOOL_MAX_FILES", 10_000)
CATALOG_PAGE_SIZE = env_int("CATALOG_PAGE_SIZE", 1000)
CATALOG_MAX_BODY_BYTES = env_int("CATALOG_MAX_BODY_BYTES", 64 * 1024)
CATALOG_GRACE_SECONDS = env_int("CATALOG_GRACE_SECONDS", 600)
CATALOG_REBUILD_CRON = env_str("CATALOG_REBUILD_CRON", "30 3 * * *")
CATALOG_REBUILD_LOCK_SECONDS = env_int("CATALOG_REBUILD_LOCK_SECONDS", 1800)
# A rebuild that would lose more than this share of the live generation's products fails
# instead of flipping (catalog/rebuild.py); 1 turns the check off.
CATALOG_MAX_PRODUCT_LOSS = env_float("CATALOG_MAX_PRODUCT_LOSS", 0.5)
if not 0 <= CATALOG_MAX_PRODUCT_LOSS <= 1:
    raise ImproperlyConfigured("CATALOG_MAX_PRODUCT_LOSS must be between 0 and 1")

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
# Time limits sit below the broker's visibility timeout: a task Redis redelivers is one that
# really died, never one that is merely slow.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 900)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1200)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task modules outside the apps' tasks.py (autodiscovered) that the worker must load.
CELERY_IMPORTS = ["catalog.tasks"]


def _cron(expr: str) -> object:
    """``"30 3 * * *"`` (minute hour day-of-month month day-of-week) -> a Celery crontab."""
    from celery.schedules import crontab

    fields = expr.split()
    if len(fields) != 5:
        raise ImproperlyConfigured(f"CATALOG_REBUILD_CRON={expr!r}: five cron fields expected")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except ValueError as e:
        raise ImproperlyConfigured(f"CATALOG_REBUILD_CRON={expr!r}: {e}") from None


# The scheduled full rebuild is the safety net for webhooks Centra dropped or reordered.
# CATALOG_REBUILD_CRON=off turns it off.
CELERY_BEAT_SCHEDULE = (
    {}
    if CATALOG_REBUILD_CRON.strip().lower() in {"", "off", "none"}
    else {
        "catalog-rebuild-all": {
            "task": "catalog.rebuild_all",
            "schedule": _cron(CATALOG_REBUILD_CRON),
            "kwargs": {"reason": "schedule"},
        }
    }
)

# -- Django ------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "storefront",
    "catalog",
    "checkout",
    "accounts",
    "shop",
    "tracking",
]

MIDDLEWARE = [
    "storefront.middleware.CorrelationIdMiddleware",
    # Before everything that can answer, so preflights and errors carry CORS headers too.
    "storefront.cors.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "storefront.stafflogin.StaffLoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "storefront.urls"
WSGI_APPLICATION = "storefront.wsgi.application"
ASGI_APPLICATION = "storefront.asgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The languages the shop's own words are translated into (shop/locale); a shop language of
# Centra's that is not here shows those words in English.
LANGUAGES = [("en", "English"), ("sv", "Svenska"), ("de", "Deutsch")]
# Listed, not only found as an app's locale/ dir: LOCALE_PATHS win over the apps' catalogues,
# so the shop's "Change password" is not replaced by the admin's own translation of it.
LOCALE_PATHS = [BASE_DIR / "shop" / "locale"]
# The admin's clock (the catalog page's times); stored times stay UTC (USE_TZ).
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Without collectstatic (tests, a fresh checkout) WhiteNoise serves from the apps directly.
WHITENOISE_USE_FINDERS = True

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_BYTES", 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "storefront.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "storefront",
    "DESCRIPTION": "Centra-compatible catalog from cache, checkout proxy, admin and webhooks.",
    "VERSION": "0.1.0",
    # The proxy, catalog, webhook and health operations are written by storefront/schema.py.
    "PREPROCESSING_HOOKS": ["storefront.schema.preprocess"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "storefront.schema.postprocess",
    ],
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = FRONTEND_ORIGINS
# A stale form token: a shop page in the shopper's language (the admin keeps Django's own).
CSRF_FAILURE_VIEW = "shop.frame.csrf_failure"
# The proxy's allowlists, by module path, for the OpenAPI schema (the kernel imports no app).
PROXY_ROUTE_TABLES = {
    "checkout": "checkout.routes.CHECKOUT_ROUTES",
    "accounts": "accounts.routes.ACCOUNT_ROUTES",
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# One configuration for web, worker and beat (storefront/celery.py applies it to Celery too).
# Every line carries the correlation id: the request's (X-Correlation-ID), or inside a Celery
# task the task's id; "-" outside both.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation_id": {"()": "storefront.correlation.CorrelationIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["correlation_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}


def _require_production_secrets() -> None:
    missing = []
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        missing.append("DJANGO_SECRET_KEY (50+ characters)")
    if not CENTRA_SHARED_SECRET or CENTRA_SHARED_SECRET == _DEV_CENTRA_SECRET:
        missing.append("CENTRA_SHARED_SECRET")
    if not CENTRA_WEBHOOK_SECRETS or _DEV_WEBHOOK_SECRET in CENTRA_WEBHOOK_SECRETS:
        missing.append("CENTRA_WEBHOOK_SECRET")
    if not ALLOWED_HOSTS:
        missing.append("ALLOWED_HOSTS")
    if DEBUG:
        # Debug pages show settings and tracebacks to anyone: never in production.
        missing.append("DJANGO_DEBUG (must be false)")
    if missing:
        raise ImproperlyConfigured("production needs real values for: " + ", ".join(missing))


if PRODUCTION:
    _require_production_secrets()
