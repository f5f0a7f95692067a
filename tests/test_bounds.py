"""Bounds on every number a person sets: each form says its maximum and refuses more, with a
message that names it; the database refuses more whoever writes it; rows stored before the
bounds existed are brought within them; and at the largest allowed values the worker's pass
and the pages that turn the numbers into dates answer without an error (issue 10)."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from campaigns.forms.senders import SenderForm
from campaigns.models import (
    ACCOUNT_BOUNDS,
    CAMPAIGN_BOUNDS,
    Campaign,
    ConnectionRequest,
    FollowUp,
    Sender,
)
from campaigns.worker import run_tick
from tests.helpers import add_request, at, page_url, status_url, words

State = ConnectionRequest.State
FOLLOWUP_DELAY_ERROR = "Enter at most 129600 minutes (90 days)."
STALE_ERROR = "Enter at most 365 days (one year)."
# The follow-up delay and the stale age the issue reproduced: each stopped every worker pass
# or turned the pages into a 500.
HUGE = ["1100000000", "9223372036854775807", "1000000000"]


def campaign_form_data(**fields) -> dict:
    return {
        "name": "Lisbon founders", "note_template": "Hi {first_name|there}",
        "note_template_b": "", "note_template_c": "", "followup_template": "Thanks!",
        "followup_delay_minutes": "1440", "brake_min_invitations": "20", "brake_min_acceptance_percent": "20",
        **fields,
    }


def errors_of(html: str, field: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert match, f"no error shown for {field}"
    return match.group(1)


def at_the_largest(account: Sender) -> Sender:
    """The sending account with every bounded number at its maximum (still inside working hours)."""
    for name, bound in ACCOUNT_BOUNDS.items():
        setattr(account, name, bound.maximum)
    account.save()
    return account


def largest_campaign(make_campaign, **fields) -> Campaign:
    bounds = {name: bound.maximum for name, bound in CAMPAIGN_BOUNDS.items()}
    return make_campaign(followup_template="Thanks, {first_name|friend}!", **{**bounds, **fields})


# --- The campaign form -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("delay", HUGE[:2])
def test_the_campaign_form_refuses_a_follow_up_delay_beyond_90_days(ada_client, delay):
    response = ada_client.post(reverse("campaign_create"), campaign_form_data(followup_delay_minutes=delay))

    assert response.status_code == 200
    assert FOLLOWUP_DELAY_ERROR in errors_of(response.content.decode(), "followup_delay_minutes")
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_editing_a_campaign_refuses_a_huge_delay_and_keeps_the_old_one(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada, followup_delay_minutes=60)

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]), campaign_form_data(followup_delay_minutes="1100000000")
    )

    assert response.status_code == 200
    assert FOLLOWUP_DELAY_ERROR in errors_of(response.content.decode(), "followup_delay_minutes")
    campaign.refresh_from_db()
    assert campaign.followup_delay_minutes == 60


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("followup_delay_minutes", "129601", FOLLOWUP_DELAY_ERROR),
        ("brake_min_invitations", "1001", "Enter at most 1000 invitations."),
        ("brake_min_acceptance_percent", "101", "Enter at most 100 percent."),
    ],
)
def test_each_campaign_number_one_above_its_maximum_is_refused_by_name(ada_client, field, value, message):
    response = ada_client.post(reverse("campaign_create"), campaign_form_data(**{field: value}))

    assert response.status_code == 200
    assert message in errors_of(response.content.decode(), field)
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_the_campaign_form_takes_each_number_at_its_maximum(ada_client, ada):
    sender = Sender.get()
    sender.users.add(ada)
    response = ada_client.post(reverse("campaign_create"), campaign_form_data(
        senders=[str(sender.pk)], followup_delay_minutes="129600", brake_min_invitations="1000", brake_min_acceptance_percent="100",
    ))

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.followup_delay_minutes, campaign.brake_min_invitations, campaign.brake_min_acceptance_percent) == (
        129600, 1000, 100,
    )


@pytest.mark.django_db
def test_the_campaign_form_states_each_maximum_before_anything_is_typed(ada_client):
    html = words(ada_client.get(reverse("campaign_create")).content.decode())

    # 1440 minutes, shown in its largest whole unit (tests/test_campaign_form.py): 1 day.
    assert re.search(r'<input type="number" name="followup_delay_minutes" value="1" min="0" max="129600"', html)
    assert re.search(r'name="brake_min_invitations" value="20" min="0" max="1000"', html)
    assert re.search(r'name="brake_min_acceptance_percent" value="20" min="0" max="100"', html)
    assert "How long after the acceptance is seen. At most 129600 minutes (90 days)." in html
    assert "0 turns the brake off. At most 1000 invitations." in html
    assert "At most 100 percent." in html


# --- A sender's page and the admin ------------------------------------------------------------------


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_user("grace", is_staff=True))
    return client


SETTINGS = {
    "name": "Team LinkedIn account", "api_key": "", "users": [],
    "daily_limit": "15", "weekly_limit": "80", "working_days": ["0", "2", "5"], "work_start": "08:30",
    "work_end": "17:15", "time_zone": "Europe/Paris", "min_spacing_seconds": "180", "max_spacing_seconds": "400",
    "hourly_action_limit": "50", "offline_recheck_seconds": "300", "stale_after_days": "7",
    "acceptance_check_minutes": "30", "acceptance_wait_days": "7",
}
TUNING_ERRORS = [
    ("offline_recheck_seconds", "Enter at most 86400 seconds (one day)."),
    ("hourly_action_limit", "Enter at most 1000 actions an hour."),
    ("acceptance_check_minutes", "Enter at most 1440 minutes (one day)."),
    ("acceptance_wait_days", "Enter at most 90 days."),
    ("stale_after_days", STALE_ERROR),
]


def sender_page() -> str:
    return reverse("sender_detail", args=[Sender.get().pk])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"daily_limit": "1001", "weekly_limit": "7000"}, "daily_limit", "Enter at most 1000 invitations a day."),
        ({"weekly_limit": "9223372036854775807"}, "weekly_limit",
         "Enter at most 7000 invitations a week (seven days at the daily maximum)."),
        ({"min_spacing_seconds": "86401", "max_spacing_seconds": "86401"}, "min_spacing_seconds",
         "Enter at most 86400 seconds (one day)."),
        ({"max_spacing_seconds": "1000000000"}, "max_spacing_seconds", "Enter at most 86400 seconds (one day)."),
    ],
)
def test_the_sender_page_refuses_pacing_beyond_its_maximum(staff_client, changes, field, message):
    response = staff_client.post(sender_page(), {**SETTINGS, **changes})

    assert response.status_code == 200
    assert message in errors_of(response.content.decode(), field)
    account = Sender.get()
    assert (account.daily_limit, account.weekly_limit, account.max_spacing_seconds) == (20, 100, 300)


@pytest.mark.django_db
def test_the_sender_page_takes_pacing_at_its_maximum_and_states_it(staff_client):
    html = words(staff_client.get(sender_page()).content.decode())
    assert "At most 1000 invitations a day." in html and 'max="1000"' in html
    assert "At most 86400 seconds (one day)." in html and 'max="86400"' in html
    assert "At most 1440 minutes (one day)." in html and 'max="1440"' in html
    assert "At most 365 days (one year)." in html and "At most 90 days." in html

    largest_tuning = {name: str(ACCOUNT_BOUNDS[name].maximum) for name, _ in TUNING_ERRORS}
    response = staff_client.post(sender_page(), {
        **SETTINGS, "daily_limit": "1000", "weekly_limit": "7000",
        "min_spacing_seconds": "86400", "max_spacing_seconds": "86400", **largest_tuning,
    })

    assert response.status_code == 302
    account = Sender.get()
    assert (account.daily_limit, account.weekly_limit, account.min_spacing_seconds) == (1000, 7000, 86400)
    assert {name: str(getattr(account, name)) for name in largest_tuning} == largest_tuning


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "message"), TUNING_ERRORS)
def test_the_sender_page_refuses_each_tuning_number_one_above_its_maximum(staff_client, field, message):
    before = getattr(Sender.get(), field)

    response = staff_client.post(sender_page(), {**SETTINGS, field: str(ACCOUNT_BOUNDS[field].maximum + 1)})

    assert response.status_code == 200
    assert message in errors_of(response.content.decode(), field)
    assert getattr(Sender.get(), field) == before


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["daily_limit", "stale_after_days"])
def test_the_sender_form_refuses_a_huge_number_without_raising(field):
    form = SenderForm({**SETTINGS, field: "9" * 5000}, instance=Sender.get())

    assert not form.is_valid()
    assert form.errors[field] == ["Enter a whole number."]


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def admin_account_data(**changes) -> dict:
    """The admin's change form for the sending account, as a browser posts it unchanged."""
    return {
        "name": "Team LinkedIn account", "daily_limit": "20", "weekly_limit": "100",
        "working_days": "[0, 1, 2, 3, 4]", "work_start": "09:00", "work_end": "18:00", "time_zone": "UTC",
        "min_spacing_seconds": "120", "max_spacing_seconds": "300", "stale_after_days": "7",
        "offline_recheck_seconds": "300", "hourly_action_limit": "50", "acceptance_check_minutes": "30",
        "acceptance_wait_days": "7", "connections_task_id": "", "connections_task_start": "0",
        **changes,
    }


@pytest.mark.django_db
def test_the_admin_settings_form_refuses_a_stale_age_of_a_billion_days(superuser_client):
    # The tuning numbers are on a sender's page too; the admin refuses as much.
    account = Sender.get()
    url = reverse("admin:campaigns_sender_change", args=[account.pk])

    response = superuser_client.post(url, admin_account_data(stale_after_days="1000000000"))

    assert response.status_code == 200
    assert STALE_ERROR in response.content.decode()
    account.refresh_from_db()
    assert account.stale_after_days == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("offline_recheck_seconds", "Enter at most 86400 seconds (one day)."),
        ("hourly_action_limit", "Enter at most 1000 actions an hour."),
        ("acceptance_check_minutes", "Enter at most 1440 minutes (one day)."),
        ("acceptance_wait_days", "Enter at most 90 days."),
        ("stale_after_days", STALE_ERROR),
    ],
)
def test_the_admin_refuses_each_tuning_number_one_above_its_maximum(superuser_client, field, message):
    account = Sender.get()
    url = reverse("admin:campaigns_sender_change", args=[account.pk])
    before = getattr(account, field)

    response = superuser_client.post(url, admin_account_data(**{field: str(ACCOUNT_BOUNDS[field].maximum + 1)}))

    assert response.status_code == 200
    assert message in response.content.decode()
    account.refresh_from_db()
    assert getattr(account, field) == before


@pytest.mark.django_db
def test_the_admin_takes_each_tuning_number_at_its_maximum(superuser_client):
    account = Sender.get()
    url = reverse("admin:campaigns_sender_change", args=[account.pk])
    largest = {
        name: str(ACCOUNT_BOUNDS[name].maximum)
        for name in ("stale_after_days", "offline_recheck_seconds", "hourly_action_limit",
                     "acceptance_check_minutes", "acceptance_wait_days")
    }

    response = superuser_client.post(url, admin_account_data(**largest))

    assert response.status_code == 302
    account.refresh_from_db()
    assert {name: str(getattr(account, name)) for name in largest} == largest


@pytest.mark.django_db
def test_the_admin_campaign_form_refuses_a_huge_follow_up_delay(rf, admin_user, make_campaign):
    from django.contrib import admin

    campaign = make_campaign(followup_delay_minutes=60)
    request = rf.get("/")
    request.user = admin_user
    form_class = admin.site._registry[Campaign].get_form(request, campaign, change=True)
    form = form_class(instance=campaign)
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}

    bound = form_class({**data, "followup_delay_minutes": "1100000000"}, instance=campaign)

    assert not bound.is_valid()
    assert bound.errors["followup_delay_minutes"] == [FOLLOWUP_DELAY_ERROR]


# --- The database -----------------------------------------------------------------------------------


def account_updates() -> list[tuple[str, dict]]:
    """For each bounded field of the account, an update that breaks only its bound (the pairs
    daily <= weekly and min <= max spacing kept where they can be)."""
    updates = []
    for name, bound in ACCOUNT_BOUNDS.items():
        fields = {name: bound.maximum + 1}
        if name == "daily_limit":
            fields["weekly_limit"] = ACCOUNT_BOUNDS["weekly_limit"].maximum
        updates.append((name, fields))
    return updates


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "fields"), account_updates(), ids=[name for name, _ in account_updates()])
def test_the_database_refuses_an_account_number_beyond_its_bound(name, fields):
    account = Sender.get()

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Sender.objects.filter(pk=account.pk).update(**fields)

    if name != "min_spacing_seconds":  # min <= max spacing breaks too: either name may be reported
        assert f"sending_account_{name}_bounded" in str(refused.value)
    account.refresh_from_db()
    assert getattr(account, name) == Sender._meta.get_field(name).default


@pytest.mark.django_db
@pytest.mark.parametrize("value", [1100000000, 2147483647])
@pytest.mark.parametrize("name", list(CAMPAIGN_BOUNDS))
def test_the_database_refuses_a_campaign_number_beyond_its_bound(make_campaign, name, value):
    campaign = make_campaign()

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(**{name: value})

    assert f"campaign_{name}_bounded" in str(refused.value)
    campaign.refresh_from_db()
    assert getattr(campaign, name) == Campaign._meta.get_field(name).default


@pytest.mark.django_db
def test_the_database_takes_every_number_at_its_maximum(make_campaign):
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(**{n: b.maximum for n, b in CAMPAIGN_BOUNDS.items()})
    Sender.objects.filter(pk=Sender.get().pk).update(**{n: b.maximum for n, b in ACCOUNT_BOUNDS.items()})

    campaign.refresh_from_db()
    assert campaign.followup_delay_minutes == 129600
    assert Sender.get().stale_after_days == 365


@pytest.mark.django_db
def test_the_database_refuses_the_huge_delay_on_create(owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(name="Huge", owner=owner, followup_delay_minutes=1100000000)
    assert not Campaign.objects.exists()


# --- Rows stored before the bounds existed ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_brings_rows_stored_before_the_bounds_within_them(owner):
    bounds_migration = ("campaigns", "0008_number_bounds")
    executor = MigrationExecutor(connection)
    before = executor.loader.get_migration(*bounds_migration).dependencies
    before = [dependency for dependency in before if dependency[0] == "campaigns"]
    try:
        executor.migrate(before)
        old_apps = executor.loader.project_state(before).apps
        OldCampaign, OldAccount = old_apps.get_model("campaigns", "Campaign"), old_apps.get_model("campaigns", "SendingAccount")
        campaign = OldCampaign.objects.create(
            name="Old", owner_id=owner.pk, followup_delay_minutes=1100000000, brake_min_invitations=5000,
            brake_min_acceptance_percent=250,
        )
        OldAccount.objects.create(
            pk=1, daily_limit=5000, weekly_limit=6000, min_spacing_seconds=100000, max_spacing_seconds=200000,
            stale_after_days=1000000000, offline_recheck_seconds=10**9, hourly_action_limit=10**6,
            acceptance_check_minutes=10**6, acceptance_wait_days=10**6,
        )

        executor = MigrationExecutor(connection)
        executor.migrate([bounds_migration])

        new_apps = executor.loader.project_state([bounds_migration]).apps
        campaign = new_apps.get_model("campaigns", "Campaign").objects.get(pk=campaign.pk)
        assert (campaign.followup_delay_minutes, campaign.brake_min_invitations, campaign.brake_min_acceptance_percent) == (
            129600, 1000, 100,
        )
        account = new_apps.get_model("campaigns", "SendingAccount").objects.get(pk=1)
        assert {name: getattr(account, name) for name in ACCOUNT_BOUNDS} == {
            "daily_limit": 1000, "weekly_limit": 6000, "hourly_action_limit": 1000,
            "min_spacing_seconds": 86400, "max_spacing_seconds": 86400, "offline_recheck_seconds": 86400,
            "acceptance_check_minutes": 1440, "acceptance_wait_days": 90, "stale_after_days": 365,
        }
    finally:
        call_command("migrate", verbosity=0)  # every later migration back, for the other tests


# --- The worker and the pages at the largest values ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_pass_at_the_largest_values_goes_on_with_every_step(sandbox, pacing_off, make_campaign):
    account = at_the_largest(pacing_off)
    campaign = largest_campaign(make_campaign, prospects=1)
    accepted = add_request(campaign, State.ACCEPTED, accepted_at=at(0), submitted_at=at(-60))

    summary = run_tick(now=at(60))

    assert summary.problems == []
    assert campaign.requests.filter(state=State.QUEUED).count() == 0  # the invitation went out
    assert not FollowUp.objects.exists()  # 90 days have not passed
    account.refresh_from_db()
    assert account.next_submission_at == at(60) + dt.timedelta(days=1)  # the largest spacing

    later = at(129600 * 60 + 120)
    summary = run_tick(now=later)

    assert summary.problems == []
    assert FollowUp.objects.get(request=accepted).message == f"Thanks, {accepted.prospect.first_name}!"


@pytest.mark.django_db
def test_home_and_the_campaign_page_and_its_status_answer_at_the_largest_values(
    ada_client, ada, always_open, make_campaign
):
    at_the_largest(always_open)
    campaign = largest_campaign(make_campaign, owner=ada, prospects=1)
    now = timezone.now()
    add_request(campaign, State.ACCEPTED, accepted_at=now)  # its follow-up is 90 days away
    add_request(campaign, State.PENDING, submitted_at=now - dt.timedelta(days=366))  # stale after a year
    add_request(campaign, State.SENT, submitted_at=now - dt.timedelta(days=91))  # counted by the brake

    home = ada_client.get(reverse("home"))
    page = ada_client.get(page_url(campaign))
    status = ada_client.get(status_url(campaign), {"v": "0"}, HTTP_HX_REQUEST="true")

    assert home.status_code == 200
    assert page.status_code == 200 and status.status_code == 200
    html = words(page.content.decode())
    assert "Stale: waiting for OutX&#x27;s extension for more than 365 days" in html
    due = (now + dt.timedelta(days=90)).strftime("%a %d %b")
    assert f"Follow-up message due {due}" in html
