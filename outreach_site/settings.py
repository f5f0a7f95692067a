"""Settings, all from the environment, with defaults that run the demo on one machine.

Every variable read here is listed in the README's settings table; keep the two in step.
The defaults give: SQLite, django-q2's ORM broker, and (with DJANGO_DEBUG=1, the default)
the built-in OutX sandbox at this site's own address. Production sets DJANGO_DEBUG=0, which
leaves the sandbox out unless OUTX_SANDBOX=1 asks for it, DATABASE_URL, REDIS_URL and OUTX_*.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}")


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")
    SECRET_KEY = "insecure-development-key-set-DJANGO_SECRET_KEY-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
# Only needed when the browser's origin differs from the Host the proxy passes on.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# The web server's port: `make run` serves on it, and the default OutX base URL points at it.
PORT = int(os.environ.get("PORT", "8000"))

INSTALLED_APPS = [
    # Django's admin, its password change sent to the site's throttled one (outreach_site/admin.py).
    "outreach_site.apps.OutreachAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_q",
    "csp",
    "axes",
    "campaigns",
    # The JSON API (api/, docs/api.md); "ninja" serves its docs page's own Swagger UI files.
    "ninja",
    "api",
    # Webhooks to a CRM (docs/webhooks.md).
    "webhooks",
    # Users and roles managed in the app, and each person's own time zone.
    "people",
]

# The OutX sandbox is a stand-in for OutX, in its own app. Off unless asked for: on by default
# only in development (DJANGO_DEBUG=1), since with it on anyone holding its public key can
# create tasks and the product talks to it instead of OutX. `check --deploy` reports it on
# with DEBUG off (campaigns/checks.py).
OUTX_SANDBOX = env_bool("OUTX_SANDBOX", DEBUG)
if OUTX_SANDBOX:
    INSTALLED_APPS.append("outx_sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Cache-Control: private, no-store on whatever a logged-in user is sent.
    "campaigns.middleware.private_no_store",
    # Times shown in the person's own time zone, else the team's (people/middleware.py).
    "people.middleware.user_time_zone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "outreach_site.urls"
WSGI_APPLICATION = "outreach_site.wsgi.application"

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
                "campaigns.context_processors.stopped_senders",
                "campaigns.context_processors.limits",
                "people.context_processors.time_zone",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # In production a connection is kept for a minute and checked before reuse: opening
        # one per request more than doubled a bare page's time (issue 14's measurement). The
        # development server starts a thread per request, so there each closes its own.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share one SQLite file. WAL lets readers run beside a
    # writer; IMMEDIATE takes the write lock when a transaction starts, so two processes
    # claiming the same row queue up instead of both reading it (SQLite's select_for_update).
    # synchronous=FULL: a commit is on disk before it returns. With NORMAL a power cut could
    # undo a claim committed before its POST to OutX, and the invitation would go out twice.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username and address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # storage and logs; the team's own time zone lives on the sending account
# English only: without translation, each number and date a page shows skips a look-up of the
# active language (a context-local read): 6-7% of Review's and of a campaign page's
# instructions (issue 14).
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served at the site's root by WhiteNoise, before the login is asked: /favicon.ico, which
# browsers and tools fetch on their own (pages name static/favicon.svg).
WHITENOISE_ROOT = BASE_DIR / "outreach_site" / "public"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -----------------------------------------------------------------------------
# With DEBUG on (`make run`) the site is plain http on 127.0.0.1; with DEBUG off it is HTTPS
# only, normally gunicorn behind a TLS proxy. gunicorn trusts X-Forwarded-Proto from the
# addresses in FORWARDED_ALLOW_IPS (default 127.0.0.1) and marks such requests https itself,
# so Django needs no SECURE_PROXY_SSL_HEADER, which would believe the header from anyone.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    # Only for a server other than gunicorn, behind a proxy that always sets the header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: base.html hands htmx the token through hx-headers.
CSRF_COOKIE_HTTPONLY = True
# A working day; a stolen session cookie is worth less the sooner it expires.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_COOKIE_AGE", 12 * 60 * 60)

# No inline script or style anywhere: every script and stylesheet is a file under /static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# Login throttling (django-axes): 5 wrong passwords for one username from one address lock
# that pair out for DJANGO_LOGIN_LOCKOUT_MINUTES; the same username from elsewhere, and
# everyone else, can still log in. Not by address alone: a team behind one office NAT would
# lock each other out. A successful login clears the count.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("DJANGO_LOGIN_LOCKOUT_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The password change counts wrong current passwords the same way (outreach_site/accounts.py);
# this renders AXES_LOCKOUT_TEMPLATE for the logins and a page of its own for it.
AXES_LOCKOUT_CALLABLE = "outreach_site.accounts.lockout_response"
# Behind a proxy every request comes from the proxy's address; DJANGO_PROXY_COUNT proxies
# that each append to X-Forwarded-For make the client the entry that many from the right.
CLIENT_IP_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)


def client_ip_address(request) -> str | None:
    """The client's address for login throttling: the one the outermost trusted proxy saw.

    Counted from the right, because the left of X-Forwarded-For is whatever the client sent.
    """
    from django.conf import settings

    count = settings.CLIENT_IP_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


AXES_CLIENT_IP_CALLABLE = client_ip_address

# --- OutX -------------------------------------------------------------------------------
# The product talks to the sandbox and to the real OutX through the same client; only the
# base URL and the key differ.
# Senders' OutX API keys are stored encrypted with these Fernet keys, newest first
# (campaigns/keys.py; the README says how to make one and rotate). Development derives one
# from DJANGO_SECRET_KEY when unset; `check --deploy` reports that (outreach.W002).
OUTREACH_ENCRYPTION_KEYS = env_list("OUTREACH_ENCRYPTION_KEYS", "")
OUTX_SANDBOX_API_KEY = os.environ.get("OUTX_SANDBOX_API_KEY", "sandbox-key")
OUTX_BASE_URL = os.environ.get("OUTX_BASE_URL") or (
    f"http://127.0.0.1:{PORT}/outx-sandbox" if OUTX_SANDBOX else "https://api.outx.ai"
)
OUTX_API_KEY = (os.environ.get("OUTX_API_KEY") or (OUTX_SANDBOX_API_KEY if OUTX_SANDBOX else "")).strip()
# Connecting should be quick; OutX creates a task and answers at once, so a slow answer is
# a sign of trouble. A POST that times out while reading becomes `uncertain`, never retried.
OUTX_CONNECT_TIMEOUT = env_float("OUTX_CONNECT_TIMEOUT", 5.0)
OUTX_READ_TIMEOUT = env_float("OUTX_READ_TIMEOUT", 20.0)
# How long the sandbox's simulated extension takes to complete a task (seconds).
OUTX_SANDBOX_TASK_DELAY = env_float("OUTX_SANDBOX_TASK_DELAY", 3.0)

# --- The worker (django-q2) ---------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER = {
    "name": "outreach",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    # A task is killed after `timeout` seconds and handed out again after `retry` seconds:
    # timeout must stay below retry, or a slow task runs twice at once.
    "timeout": 120,
    "retry": 180,
    # 0 would mean "retry forever". Our tasks are safe to run again (every send is guarded by
    # the request's state in the database), but a failing task must not loop.
    "max_attempts": 1,
    # A worker that was down must not fire every missed schedule at once when it comes back.
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 500,
    "poll": 1,
    "label": "Worker",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- The cache ----------------------------------------------------------------------------
# The JSON API's rate limits count requests here. With REDIS_URL, in Redis, shared by every web
# process; without, in each process's memory, so each process counts its own (docs/api.md).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Webhooks (docs/webhooks.md) ----------------------------------------------------------
# This site's own address as its users reach it: webhook events link to its pages with it.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/") or f"http://127.0.0.1:{PORT}"
# Webhook URLs that resolve to loopback, private or link-local addresses are refused in
# production (SSRF, webhooks/ssrf.py); development and tests may post to a local receiver.
WEBHOOKS_ALLOW_PRIVATE_URLS = env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", DEBUG)

# --- The JSON API (docs/api.md) -----------------------------------------------------------
# Requests per token: reads (GET) and writes (POST) counted apart, as "count/period".
API_RATE_LIMITS = {
    "read": os.environ.get("API_READ_RATE", "120/min"),
    "write": os.environ.get("API_WRITE_RATE", "30/min"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # it announces itself at INFO on every command
    },
}

# Error reports (the mail to ADMINS, the debug page) hide settings whose names look secret;
# these also hide the broker and database URLs, which may carry passwords.
DEFAULT_EXCEPTION_REPORTER_FILTER = "outreach_site.reporting.SecretsHidingFilter"
