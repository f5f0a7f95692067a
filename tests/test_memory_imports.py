"""A web worker imports what its pages need, and the rest on first use: httpx (OutX calls, webhook
deliveries) and cryptography (senders' keys) cost each gunicorn worker ~8 MiB of its peak memory
(bench/memory_bench.py) that the pages never use.

Each case runs in a new process, whose sys.modules nothing else has filled.
"""

import json
import subprocess

from tests.stack import ROOT
from tests.test_production import PYTHON, production_env

LOADED_AFTER_PAGES = """
import json, sys
from django.test import Client
from django.urls import resolve, reverse

from outreach_site.wsgi import application  # what gunicorn loads: django.setup() and the site

# The first reverse() populates every resolver; the login page renders the site's base template.
reverse("campaign_list")
resolve("/review/")
login_page = Client().get("/accounts/login/", secure=True)
print(json.dumps({
    "login_page": login_page.status_code,
    "loaded": sorted(name for name in sys.modules if name.split(".")[0] in {"httpx", "cryptography"}),
}))
"""


def run(probe: str) -> dict:
    done = subprocess.run(
        [PYTHON, "-c", probe], cwd=ROOT,
        # DEBUG on for the plain static files storage (no collectstatic); the sandbox off, as in production.
        env={**production_env(DJANGO_DEBUG="1", OUTX_SANDBOX="0", DJANGO_ALLOWED_HOSTS="testserver"),
             "DJANGO_SETTINGS_MODULE": "outreach_site.settings"},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pages_load_neither_httpx_nor_cryptography():
    seen = run(LOADED_AFTER_PAGES)

    assert seen["login_page"] == 200
    assert seen["loaded"] == []
