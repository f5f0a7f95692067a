"""The htmx the pages get is htmx 2, whatever django-htmx release is installed.

`{% htmx_script %}` in templates/base.html serves the copy of htmx that django-htmx bundles,
and which major version that is depends on the tag's default (django-htmx 1.29 ships htmx 2 and
htmx 4 side by side). The pages are written for htmx 2 (their hx-* attributes, htmx:load, the
htmx-config meta), so an upgrade that serves another major version must fail here, loudly,
rather than break the live pages in a browser.
"""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

BASE_HTML = Path(__file__).resolve().parent.parent / "templates" / "base.html"
SCRIPT_SRC = re.compile(r'<script src="([^"]*/django_htmx/htmx[^"/]*\.js)"')
# `version:"2.0.10"` in the minified file, `version: '2.0.10'` in the full one.
VERSION = re.compile(r"""\bversion\s*[:=]\s*["'](\d+\.\d+\.[^"']+)["']""")
COMMENT_VERSION = re.compile(r"\{#\s*htmx (\d+\.\d+\.\S+?),")


@pytest.fixture
def served_htmx_version(db, client, settings) -> str:
    """The version string inside the htmx script a page (the login page, on base.html) loads."""
    # Plain static URLs, whatever DJANGO_DEBUG says: the manifest storage needs collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    html = client.get(reverse("login")).content.decode()
    sources = SCRIPT_SRC.findall(html)
    assert len(sources) == 1, f"expected one htmx script on the page, found {sources}"
    relative = sources[0].removeprefix(static(""))
    path = finders.find(relative)
    assert path, f"{relative} is not among the static files"
    versions = set(VERSION.findall(Path(path).read_text(encoding="utf-8")))
    assert len(versions) == 1, f"expected one version string in {relative}, found {versions}"
    return versions.pop()


def test_the_pages_load_htmx_2(served_htmx_version):
    assert served_htmx_version.startswith("2."), (
        f"{{% htmx_script %}} now serves htmx {served_htmx_version}; the pages are written for htmx 2. "
        "Pass version=2 to the tag, or port the pages and update this test."
    )


def test_base_html_names_the_htmx_it_ships(served_htmx_version):
    found = COMMENT_VERSION.search(BASE_HTML.read_text(encoding="utf-8"))
    assert found, "templates/base.html should say which htmx {% htmx_script %} ships, in a comment"
    assert found.group(1) == served_htmx_version, (
        f"templates/base.html says htmx {found.group(1)}, but {served_htmx_version} is served: update the comment"
    )
