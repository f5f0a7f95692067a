"""Production footing: `check --deploy` finds nothing, gunicorn serves collected, hashed and
compressed static files with DEBUG off, login throttling (django-axes) and password rules.

The production runs happen in separate processes, with the environment a server would have;
this test process keeps the development settings (DEBUG on at import, plain http).
"""

import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys

import httpx
import pytest
from axes.models import AccessAttempt
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.stack import ROOT, free_port, wait_for_http

PYTHON = sys.executable
HOST = "example.com"


def production_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "OUTX_SANDBOX": "0",
        "OUTX_API_KEY": "x",
        # Senders' keys are encrypted with it; without it `check --deploy` warns (outreach.W002).
        "OUTREACH_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# --- Deploy checks and settings ------------------------------------------------------------


def test_check_deploy_reports_nothing_in_production():
    done = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


SETTINGS_PROBE = """
import json
import django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "hsts": s.SECURE_HSTS_SECONDS,
    "session_secure": s.SESSION_COOKIE_SECURE,
    "csrf_secure": s.CSRF_COOKIE_SECURE,
    "session_httponly": s.SESSION_COOKIE_HTTPONLY,
    "csrf_httponly": s.CSRF_COOKIE_HTTPONLY,
    "proxy_ssl_header": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "storage": s.STORAGES["staticfiles"]["BACKEND"],
    "conn_max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
    "conn_health_checks": s.DATABASES["default"]["CONN_HEALTH_CHECKS"],
}))
"""


def read_settings(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [PYTHON, "-c", SETTINGS_PROBE], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "outreach_site.settings"},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_production_is_https_only_with_secure_httponly_cookies():
    production = read_settings(production_env())

    assert production == {
        "debug": False,
        "ssl_redirect": True,
        "hsts": 31_536_000,
        "session_secure": True,
        "csrf_secure": True,
        "session_httponly": True,
        "csrf_httponly": True,
        # gunicorn decides which proxies to believe about https; Django believes no header.
        "proxy_ssl_header": None,
        "storage": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        # A connection per request more than doubles a bare page's time: kept, and checked.
        "conn_max_age": 60,
        "conn_health_checks": True,
    }


def test_development_stays_plain_http_on_localhost():
    env = {**os.environ, "DJANGO_DEBUG": "1"}
    env.pop("DJANGO_SECRET_KEY", None)

    development = read_settings(env)

    assert development["debug"] is True
    assert development["ssl_redirect"] is False
    assert development["hsts"] == 0
    assert development["session_secure"] is False
    assert development["csrf_secure"] is False
    assert development["storage"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert development["conn_max_age"] == 0  # runserver's thread per request closes its own


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    env.pop("DJANGO_SECRET_KEY")

    done = manage(env, "check")

    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in done.stderr


# --- gunicorn with DEBUG off ---------------------------------------------------------------


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """collectstatic into a temporary STATIC_ROOT, migrate a fresh SQLite file, and serve the
    site with gunicorn as production does (DEBUG off, no sandbox); yields its base URL."""
    tmp_path = tmp_path_factory.mktemp("production")
    env = production_env(
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
    )
    for args in (["collectstatic", "--no-input"], ["migrate", "--no-input"]):
        done = manage(env, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "outreach_site.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/static/css/app.css")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# What a TLS proxy in front of gunicorn sends along; gunicorn believes it from 127.0.0.1.
THROUGH_THE_PROXY = {"Host": HOST, "X-Forwarded-Proto": "https"}


def test_plain_http_is_redirected_to_https(production_server):
    response = httpx.get(production_server + "/accounts/login/", headers={"Host": HOST})

    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}/accounts/login/"


def test_gunicorn_serves_the_login_page_with_hashed_compressed_static_files(production_server):
    page = httpx.get(production_server + "/accounts/login/", headers=THROUGH_THE_PROXY)

    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    csrf_cookie = next(c for c in page.headers.get_list("Set-Cookie") if c.startswith("csrftoken="))
    assert "Secure" in csrf_cookie and "HttpOnly" in csrf_cookie

    # Every static URL in the page names a hashed, collected file.
    static_urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert len(static_urls) >= 6  # five stylesheets and htmx
    assert all(re.search(r"\.[0-9a-f]{12}\.(?:css|js|svg)$", url) for url in static_urls), static_urls
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page.text)
    htmx = re.search(r'src="(/static/django_htmx/htmx-2\.min\.[0-9a-f]{12}\.js)"', page.text)
    assert css and htmx, page.text

    plain = httpx.get(production_server + css[1], headers={**THROUGH_THE_PROXY, "Accept-Encoding": "identity"})
    gzipped = httpx.get(production_server + css[1], headers={**THROUGH_THE_PROXY, "Accept-Encoding": "gzip"})

    assert plain.status_code == gzipped.status_code == 200
    assert plain.headers["Content-Type"].startswith("text/css")
    assert "Content-Encoding" not in plain.headers
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert int(gzipped.headers["Content-Length"]) < int(plain.headers["Content-Length"])
    assert gzipped.content == plain.content  # httpx decoded it
    # Hashed names never change content, so browsers may keep them for good.
    assert "immutable" in plain.headers["Cache-Control"]
    assert httpx.get(production_server + htmx[1], headers=THROUGH_THE_PROXY).status_code == 200


def test_the_sandbox_is_not_served_in_production(production_server):
    response = httpx.get(production_server + "/outx-sandbox/", headers=THROUGH_THE_PROXY)

    assert response.status_code == 404


# --- Login throttling ----------------------------------------------------------------------

PASSWORD = "a long enough password"


@pytest.fixture
def fast_hasher(settings):
    # Every attempt, right or wrong, hashes a password; production's hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def maria(django_user_model, fast_hasher):
    return django_user_model.objects.create_user("maria", password=PASSWORD)


@pytest.fixture
def bob(django_user_model, fast_hasher):
    return django_user_model.objects.create_user("bob", password=PASSWORD)


def log_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_throttling_is_on_in_tests_too():
    assert settings.AXES_ENABLED
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_FAILURE_LIMIT == 5


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_username_from_that_address(client, maria):
    for _ in range(4):
        assert log_in(client, "maria", "wrong").status_code == 200  # the form again, with its error

    fifth = log_in(client, "maria", "wrong")
    right = log_in(client, "maria", PASSWORD)

    assert fifth.status_code == 429
    assert right.status_code == 429
    content = right.content.decode()
    assert "Login locked" in content
    assert "after 5 wrong passwords" in content
    assert "as <strong>maria</strong> from this address is locked" in content
    assert "for 15 minutes" in content
    assert "registration/locked_out.html" in [t.name for t in right.templates]
    assert not is_logged_in(client)


@pytest.mark.django_db
def test_a_lockout_leaves_other_users_and_other_addresses_alone(client, maria, bob):
    for _ in range(5):
        log_in(client, "maria", "wrong")

    assert log_in(client, "bob", PASSWORD).status_code == 302
    assert is_logged_in(client)
    client.logout()
    assert log_in(client, "maria", PASSWORD, REMOTE_ADDR="10.0.0.2").status_code == 302


@pytest.mark.django_db
def test_the_lock_opens_after_the_cool_off(client, maria):
    for _ in range(5):
        log_in(client, "maria", "wrong")
    assert log_in(client, "maria", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))

    assert log_in(client, "maria", PASSWORD).status_code == 302
    assert is_logged_in(client)


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client, maria):
    for _ in range(4):
        log_in(client, "maria", "wrong")
    assert log_in(client, "maria", PASSWORD).status_code == 302
    client.logout()

    for _ in range(4):
        assert log_in(client, "maria", "wrong").status_code == 200

    assert log_in(client, "maria", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(client, maria):
    maria.is_staff = True
    maria.save()
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "maria", "password": "wrong"})

    response = client.post(reverse("admin:login"), {"username": "maria", "password": PASSWORD})

    assert response.status_code == 429
    assert not is_logged_in(client)


@pytest.mark.django_db
def test_behind_a_proxy_each_client_is_counted_by_its_own_address(client, maria, settings):
    # One proxy appending to X-Forwarded-For (DJANGO_PROXY_COUNT=1): every request comes from
    # the proxy's address, so the client is the right-most entry, the one the proxy wrote.
    settings.CLIENT_IP_PROXY_COUNT = 1
    attacker = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for n in range(5):
        # Whatever the client puts on the left does not make it someone new.
        spoofed = {**attacker, "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}, 203.0.113.7"}
        log_in(client, "maria", "wrong", **spoofed)

    assert log_in(client, "maria", PASSWORD, **attacker).status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    colleague = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.10"}
    assert log_in(client, "maria", PASSWORD, **colleague).status_code == 302


# --- Password validators -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Xk3#q", "too short"),
        ("password123", "too common"),
        ("48213907156", "entirely numeric"),
        ("maria.lopez", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused(password, reason, django_user_model):
    user = django_user_model(username="maria.lopez", email="maria@example.com")

    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)

    assert reason in " ".join(refused.value.messages)


def test_a_strong_password_is_accepted(django_user_model):
    user = django_user_model(username="maria.lopez")

    assert validate_password("correct horse battery staple", user) is None
