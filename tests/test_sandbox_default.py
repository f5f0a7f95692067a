"""The OutX sandbox is off unless someone asks for it: on by default only with DJANGO_DEBUG=1
(`make run`), and `check --deploy` reports it when it is on with DJANGO_DEBUG=0.

The settings are read in separate processes, with the environment each case would have.
"""

import json
import os
import subprocess

import pytest
from django.core import checks

from campaigns.checks import SANDBOX_IN_PRODUCTION, sandbox_off_in_production
from tests.test_production import PYTHON, manage, production_env
from tests.stack import ROOT

PROBE = """
import json
import django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "sandbox": s.OUTX_SANDBOX,
    "sandbox_app": "outx_sandbox" in s.INSTALLED_APPS,
    "base_url": s.OUTX_BASE_URL,
    "api_key": s.OUTX_API_KEY,
}))
"""


def read_settings(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [PYTHON, "-c", PROBE], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "outreach_site.settings"},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in names}


def development_env(**extra: str) -> dict[str, str]:
    """What `make run` has: nothing set but the port (DJANGO_DEBUG defaults to 1)."""
    env = without(dict(os.environ), "DJANGO_DEBUG", "OUTX_SANDBOX", "OUTX_BASE_URL", "OUTX_API_KEY",
                  "DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    return {**env, "PORT": "8000", **extra}


def test_production_without_outx_sandbox_set_has_no_sandbox_and_calls_outx():
    production = read_settings(without(production_env(), "OUTX_SANDBOX", "OUTX_BASE_URL", "OUTX_API_KEY"))

    assert production == {
        "debug": False,
        "sandbox": False,
        "sandbox_app": False,
        "base_url": "https://api.outx.ai",
        "api_key": "",  # never the sandbox's public key
    }


def test_make_run_still_gets_the_sandbox():
    development = read_settings(development_env())

    assert development == {
        "debug": True,
        "sandbox": True,
        "sandbox_app": True,
        "base_url": "http://127.0.0.1:8000/outx-sandbox",
        "api_key": "sandbox-key",
    }


@pytest.mark.parametrize(("debug", "sandbox", "on"), [("0", "1", True), ("1", "0", False), ("0", "0", False)])
def test_outx_sandbox_set_explicitly_wins_over_the_default(debug, sandbox, on):
    env = {**production_env(), "DJANGO_DEBUG": debug, "OUTX_SANDBOX": sandbox}

    assert read_settings(env)["sandbox"] is on


def test_check_deploy_reports_the_sandbox_on_with_debug_off():
    done = manage(production_env(OUTX_SANDBOX="1"), "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode != 0
    report = done.stdout + done.stderr
    assert f"({SANDBOX_IN_PRODUCTION}) The OutX sandbox is on (OUTX_SANDBOX=1) while DJANGO_DEBUG=0." in report
    assert "In production leave OUTX_SANDBOX unset or set it to 0." in report


def test_check_deploy_is_quiet_about_the_sandbox_when_it_is_left_unset_in_production():
    done = manage(without(production_env(), "OUTX_SANDBOX"), "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_the_check_is_a_deploy_check_and_speaks_only_with_debug_off(settings):
    assert sandbox_off_in_production in checks.registry.registry.get_checks(include_deployment_checks=True)
    assert sandbox_off_in_production not in checks.registry.registry.get_checks(include_deployment_checks=False)

    settings.OUTX_SANDBOX, settings.DEBUG = True, True
    assert sandbox_off_in_production() == []
    settings.OUTX_SANDBOX, settings.DEBUG = False, False
    assert sandbox_off_in_production() == []
    settings.OUTX_SANDBOX, settings.DEBUG = True, False
    [warning] = sandbox_off_in_production()
    assert warning.level == checks.WARNING and warning.id == SANDBOX_IN_PRODUCTION
