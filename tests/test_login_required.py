"""Every page needs a login, except the login pages, the sandbox's API (it wants an API key)
and the site's JSON API (it wants a personal token: 401 without one, never the login page).

The URL conf is walked as Django resolves it, includes and all, so a page added later is
checked without anyone remembering to list it here.
"""

import re
from re import _constants as sre_constants
from re import _parser as sre_parser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

SANDBOX_API_PREFIX = "/outx-sandbox/linkedin-agent/"
API_PREFIX = "/api/v1/"
# The JSON API's own pages stay behind the login, as part of the site: its docs and schema,
# and the bare root (a 404 naming the docs).
API_SITE_PAGES = {API_PREFIX, API_PREFIX + "openapi.json", API_PREFIX + "docs"}


# --- Walking the URL conf -------------------------------------------------------------------


def sample_matching(regex: str) -> str:
    """A short string the regex matches, with `1` or `x` wherever a value goes.

    Route converters (`<int:pk>`, `<uuid:id>`, `<path:p>`) become regexes too, so this one
    function builds a URL for `path()` and `re_path()` patterns alike.
    """
    return "".join(_sample(sre_parser.parse(regex)))


def _sample(parsed) -> list[str]:
    c = sre_constants
    out: list[str] = []
    for op, arg in parsed:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op in (c.NOT_LITERAL, c.ANY):
            out.append("y" if op is c.NOT_LITERAL and chr(arg) == "x" else "x")
        elif op is c.IN:
            out.append(_sample_set(arg))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, sub = arg
            out.extend(_sample(sub) * (max(low, 1) if high else 0))
        elif op is c.SUBPATTERN:
            out.extend(_sample(arg[-1]))  # (group, add_flags, del_flags, pattern)
        elif op is c.BRANCH:
            out.extend(_sample(arg[1][0]))
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        else:
            raise NotImplementedError(f"Cannot build a URL for regex element {op}")
    return out


def _sample_set(items) -> str:
    c = sre_constants
    if items and items[0][0] is c.NEGATE:
        return "x"  # [^/]: anything but what is listed; resolve() below confirms it fits
    op, arg = items[0]
    if op is c.LITERAL:
        return chr(arg)
    if op is c.RANGE:
        low, high = arg
        return "1" if low <= ord("1") <= high else chr(low)
    if op is c.CATEGORY:
        return "1" if arg is c.CATEGORY_DIGIT else "x"
    raise NotImplementedError(f"Cannot build a URL for character set {items}")


def walk(resolver: URLResolver, prefix: str = ""):
    """(url, pattern) for every endpoint, recursively through includes."""
    for entry in resolver.url_patterns:
        part = sample_matching(entry.pattern.regex.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry, prefix + part)
        elif isinstance(entry, URLPattern):
            yield prefix + part, entry


def all_pages() -> list[tuple[str, URLPattern]]:
    root = get_resolver()
    return list(walk(root, sample_matching(root.pattern.regex.pattern)))


def is_login_page(url: str) -> bool:
    return url in {reverse("login"), reverse("admin:login")}


def is_sandbox_api(url: str) -> bool:
    return url.startswith(SANDBOX_API_PREFIX)


def is_token_api(url: str) -> bool:
    return url.startswith(API_PREFIX) and url not in API_SITE_PAGES


PAGES = all_pages()
PRIVATE = [url for url, _ in PAGES if not is_login_page(url) and not is_sandbox_api(url) and not is_token_api(url)]
SANDBOX_API = [url for url, _ in PAGES if is_sandbox_api(url)]
TOKEN_API = [url for url, _ in PAGES if is_token_api(url)]


def test_the_walk_reaches_every_part_of_the_site():
    urls = {url for url, _ in PAGES}
    assert {reverse("home"), reverse("login"), reverse("logout"), reverse("admin:index")} <= urls
    assert reverse("admin:campaigns_connectionrequest_change", args=["x"]) in urls
    assert {reverse("account"), API_PREFIX + "campaigns", API_PREFIX + "docs"} <= urls
    if settings.OUTX_SANDBOX:
        # Only so this test sees the sandbox's include; its pages are checked below.
        assert "/outx-sandbox/" in urls
        assert SANDBOX_API_PREFIX + "send-connection-request" in urls


@pytest.mark.parametrize(("url", "pattern"), PAGES, ids=[url for url, _ in PAGES])
def test_each_built_url_reaches_its_own_view(url, pattern):
    assert resolve(url).func is pattern.callback, f"{url} reaches another view than {pattern}"


def test_only_the_login_pages_and_the_apis_skip_the_login():
    public = {url for url, pattern in PAGES if getattr(pattern.callback, "login_required", True) is False}
    assert public == {reverse("login"), reverse("admin:login"), *SANDBOX_API, *TOKEN_API}
    assert len(TOKEN_API) >= 4


@pytest.mark.django_db
@pytest.mark.parametrize("url", PRIVATE)
def test_anonymous_user_is_sent_to_the_login_page(client, url):
    response = client.get(url)

    assert response.status_code == 302, f"{url} answered {response.status_code}"
    location = urlsplit(response["Location"])
    if url.startswith(reverse("admin:index")):
        # Some admin views name the admin's own login page; either logs the user in.
        assert location.path in {resolve_url(settings.LOGIN_URL), reverse("admin:login")}
    else:
        assert location.path == resolve_url(settings.LOGIN_URL)
    assert parse_qs(location.query)["next"] == [url]


@pytest.mark.django_db
@pytest.mark.parametrize("url", SANDBOX_API)
def test_sandbox_api_answers_401_json_without_a_key(client, url):
    response = client.get(url)
    if response.status_code == 405:  # a POST endpoint
        response = client.post(url, data={}, content_type="application/json")

    assert response.status_code == 401, f"{url} answered {response.status_code}"
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"error"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", TOKEN_API)
def test_json_api_answers_401_json_without_a_token(client, django_user_model, url):
    # A logged-in session is no token either: the API takes none (api/auth.py says why).
    client.force_login(django_user_model.objects.create_user("maria"))
    for anyone in (client, type(client)()):
        response = anyone.get(url)
        if response.status_code == 405:  # a POST endpoint
            response = anyone.post(url, data={}, content_type="application/json")

        assert response.status_code == 401, f"{url} answered {response.status_code}"
        assert response["Content-Type"].startswith("application/json")
        assert set(response.json()) == {"detail"}


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_anonymous_user_sees_the_login_pages(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert b'name="password"' in response.content


# --- Logging in and out ----------------------------------------------------------------------

PASSWORD = "a long enough password"


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("maria", password=PASSWORD)


@pytest.mark.django_db
def test_logged_in_user_gets_the_home_page(client, user):
    client.force_login(user)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert "campaigns/home.html" in [t.name for t in response.templates]
    content = response.content.decode()
    assert "maria" in content
    assert re.search(r"<button[^>]*>Log out</button>", content)


@pytest.mark.django_db
def test_login_with_the_right_password_leads_home(client, user):
    response = client.post(
        reverse("login"), {"username": "maria", "password": PASSWORD, "next": reverse("home")}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_login_with_a_wrong_password_shows_an_error(client, user):
    response = client.post(reverse("login"), {"username": "maria", "password": "wrong"})

    assert response.status_code == 200
    content = response.content.decode()
    assert 'role="alert"' in content
    assert "Please enter a correct username and password" in content
    assert 'value="maria"' in content  # the username is kept
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_logout_by_post(client, user):
    client.force_login(user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGOUT_REDIRECT_URL)
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_logout_by_get_is_refused(client, user):
    # A link or an image must not log anyone out: logout is a POST.
    client.force_login(user)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert client.get(reverse("home")).status_code == 200
