"""Django settings, read from the environment only and validated at start-up.

Every setting comes from a ``TRELLIS_*`` variable through a small typed helper that fails loudly
on a bad value (the healthchecks habit): a typo in production should stop the process, not be
silently ignored.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


# --- modes -------------------------------------------------------------------------------------
DEBUG = env_bool("TRELLIS_DEBUG", False)
# Demo mode: synthetic data banner, printed logins, TOTP optional. Never for real patients.
DEMO_MODE = env_bool("TRELLIS_DEMO", False)
# Under pytest the settings are imported by pytest-django before any conftest can set variables.
TESTING = env_bool("TRELLIS_TESTING", False) or "pytest" in sys.modules

DEFAULT_SECRET_KEY = "trellis-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env_str("TRELLIS_SECRET_KEY", DEFAULT_SECRET_KEY)
if SECRET_KEY == DEFAULT_SECRET_KEY and not (DEBUG or DEMO_MODE or TESTING):
    raise ImproperlyConfigured(
        "TRELLIS_SECRET_KEY is unset or the default: set a long random value "
        "(or TRELLIS_DEMO=1 / TRELLIS_DEBUG=1 for a local, synthetic-data-only run)"
    )

ALLOWED_HOSTS = env_list("TRELLIS_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
TIME_ZONE = env_str("TRELLIS_TIME_ZONE", "America/New_York")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"TRELLIS_TIME_ZONE {TIME_ZONE!r} is not a known time zone") from exc

# --- database ----------------------------------------------------------------------------------
DATA_DIR = Path(env_str("TRELLIS_DATA_DIR", str(Path.cwd() / "var"))).resolve()
# The network dataset (trellis-network/1): the HMAC key of its pseudonyms (refused when unset
# outside demo) and the dataset the /network/ page reports on.
NETWORK_KEY = env_str("TRELLIS_NETWORK_KEY", "")
NETWORK_DATA_DIR = Path(
    env_str("TRELLIS_NETWORK_DATA", str(DATA_DIR / "network" / "dataset"))
).resolve()
if TESTING and "TRELLIS_NETWORK_DATA" not in os.environ:
    # Tests seed the demo network into a throw-away directory, never into ./var.
    import tempfile

    NETWORK_DATA_DIR = Path(tempfile.mkdtemp(prefix="trellis-network-")) / "dataset"
_default_db = f"sqlite:///{DATA_DIR / 'trellis.sqlite3'}"
DATABASE_URL = env_str("TRELLIS_DATABASE_URL", _default_db)
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=60)
except Exception as exc:  # dj-database-url raises a bare ValueError/KeyError on bad schemes
    raise ImproperlyConfigured(f"TRELLIS_DATABASE_URL is not a database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the demo's background worker and web server share the file.
    _db["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- apps --------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "trellis.accounts",
    "trellis.audit",
    "trellis.patients",
    "trellis.notify",
    "trellis.alerts",
    "trellis.checkin",
    "trellis.care",
    "trellis.integration",
    "trellis.dosing",
    "trellis.measures",
    "trellis.peers",
    "trellis.access",
    "trellis.booking",
    "trellis.guides",
    "trellis.reporting",
    "trellis.messaging",
    "trellis.network",
    "trellis.web",
    "trellis.fhir",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "trellis.audit.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "trellis.accounts.middleware.ProgramMiddleware",
    # After the program is known, around every view and its rendering (issue 14, finding 2).
    "trellis.audit.exposure.PatientDataAuditMiddleware",
    "trellis.web.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "trellis.urls"
WSGI_APPLICATION = "trellis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trellis.accounts.context_processors.trellis",
                "trellis.alerts.context_processors.alerts",
            ],
            "builtins": ["trellis.web.templatetags.trellis_tags"],
        },
    },
]

# --- auth and security -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests that check the hasher override this.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "trellis.accounts.validators.RepeatedCharacterValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# TOTP second factor is required for every role that can see patients, except in demo mode.
REQUIRE_2FA = env_bool("TRELLIS_REQUIRE_2FA", not DEMO_MODE)
OTP_TOTP_ISSUER = "Trellis"

# Sessions expire after 15 idle minutes (configurable): every request pushes the expiry on.
SESSION_IDLE_MINUTES = env_int("TRELLIS_SESSION_IDLE_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("TRELLIS_SECURE_COOKIES", not (DEBUG or DEMO_MODE or TESTING))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True

# Transport (HIPAA §164.312(e)(1) transmission security; OWASP ASVS 9.1): outside demo/debug,
# plain HTTP is redirected to HTTPS and browsers are told to use HTTPS only for at least a year.
# The year is a floor a deployment may raise, not lower. Behind a TLS-terminating proxy (the
# usual set-up: waitress speaks HTTP), the proxy must set X-Forwarded-Proto; Trellis trusts that
# header only when TRELLIS_PROXY_SSL_HEADER names it (the default outside demo/debug), so the
# proxy must also overwrite any value a client sends.
PRODUCTION = not (DEBUG or DEMO_MODE or TESTING)
HSTS_FLOOR_SECONDS = 365 * 24 * 3600
SECURE_SSL_REDIRECT = env_bool("TRELLIS_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int(
    "TRELLIS_HSTS_SECONDS", HSTS_FLOOR_SECONDS if PRODUCTION else 0, minimum=0
)
if PRODUCTION and SECURE_HSTS_SECONDS < HSTS_FLOOR_SECONDS:
    raise ImproperlyConfigured(
        f"TRELLIS_HSTS_SECONDS must be at least {HSTS_FLOOR_SECONDS} (one year) outside demo/debug"
    )
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TRELLIS_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("TRELLIS_HSTS_PRELOAD", False)
_proxy_header = env_str("TRELLIS_PROXY_SSL_HEADER", "X-Forwarded-Proto" if PRODUCTION else "")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None
)
# A load balancer's health probe may come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# django-axes: lock an account+IP pair out after repeated failures.
AXES_FAILURE_LIMIT = env_int("TRELLIS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("TRELLIS_LOGIN_COOLOFF_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# django-csp 4: no inline scripts or styles anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
    }
}

# --- i18n --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True

# --- static ------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves from the app folders (WHITENOISE_USE_FINDERS); an empty root keeps it quiet.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# --- background tasks (django-tasks, database backend) ------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if TESTING:
    # Tests run tasks at once, in-process; the database backend is exercised by its own test.
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- check-in links ------------------------------------------------------------------------------
# Unknown or expired links from one client address: after this many in 15 minutes, every link
# lookup from that address is refused for the rest of the window (issue 14, finding 6).
CHECKIN_FAILURE_LIMIT = env_int("TRELLIS_CHECKIN_FAILURE_LIMIT", 20, minimum=1)
CHECKIN_FAILURE_WINDOW_SECONDS = 15 * 60
# Wrong birth years before a link's sensitive sections (safety plan, journal) stay closed.
CHECKIN_BIRTH_YEAR_ATTEMPTS = 5

# --- mail --------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("TRELLIS_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("TRELLIS_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("TRELLIS_EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("TRELLIS_FROM_EMAIL", "trellis@localhost")
EMAIL_TIMEOUT = 15
_default_transport = "console" if (DEMO_MODE or TESTING) else "smtp"
EMAIL_TRANSPORT = env_str("TRELLIS_EMAIL_TRANSPORT", _default_transport)
SMS_TRANSPORT = env_str("TRELLIS_SMS_TRANSPORT", "console" if (DEMO_MODE or TESTING) else "webhook")
if EMAIL_TRANSPORT not in {"smtp", "console"}:
    raise ImproperlyConfigured("TRELLIS_EMAIL_TRANSPORT must be smtp or console")
if SMS_TRANSPORT not in {"webhook", "console"}:
    raise ImproperlyConfigured("TRELLIS_SMS_TRANSPORT must be webhook or console")
SMS_WEBHOOK_URL = env_str("TRELLIS_SMS_WEBHOOK_URL", "")
SMS_WEBHOOK_TOKEN = env_str("TRELLIS_SMS_WEBHOOK_TOKEN", "")
# Absolute links in messages (check-in links) start with this, e.g. https://trellis.example.org
TRELLIS_BASE_URL = env_str("TRELLIS_BASE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Check-in tokens are passwords: no log line carries one (issue 14, finding 6).
    "filters": {"redact_tokens": {"()": "trellis.audit.redact.RedactTokensFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env_str("TRELLIS_LOG_LEVEL", "WARNING")},
}
