"""The product's settings with bench/urls.py's URLs: the bare 204 view, the floor every page is
measured against, is served by the benchmark's gunicorn only, never by the product."""

from outreach_site.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
