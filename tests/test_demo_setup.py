"""`manage.py demo_setup` creates demo / demo as a superuser, so it refuses to run with
DJANGO_DEBUG=0 unless given --force."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from campaigns.models import Campaign
from tests.test_production import manage, production_env

REFUSAL = (
    "demo_setup refuses to run with DJANGO_DEBUG=0: it creates the superuser 'demo' with the "
    "password 'demo', which anyone could log in as. Run it on a development copy (DJANGO_DEBUG=1), "
    "or add --force if this site really is a demo."
)


@pytest.mark.django_db
def test_with_debug_off_it_refuses_and_creates_nothing(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError) as refused:
        call_command("demo_setup")

    assert str(refused.value) == REFUSAL
    assert not User.objects.exists()
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_with_debug_off_and_force_it_sets_up_the_demo(settings):
    settings.DEBUG = False

    out = io.StringIO()
    call_command("demo_setup", "--force", stdout=out)

    assert "Created the admin user 'demo' (password 'demo')." in out.getvalue()

    demo = User.objects.get(username="demo")
    assert demo.is_superuser and demo.check_password("demo")
    assert Campaign.objects.get().name == "Demo campaign"


@pytest.mark.django_db
def test_with_debug_on_it_sets_up_the_demo_as_make_run_does(settings):
    settings.DEBUG = True

    call_command("demo_setup", stdout=io.StringIO())

    assert User.objects.get(username="demo").is_superuser


def test_a_production_process_is_refused_with_the_reason(tmp_path):
    # Refused before it touches the database: this one has not even been migrated.
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    done = manage(env, "demo_setup")

    assert done.returncode == 1
    assert "CommandError: " + REFUSAL in done.stderr
    assert "Created the admin user" not in done.stdout
