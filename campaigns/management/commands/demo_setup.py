"""Give a fresh install something to look at: a demo login, three senders with demo pacing,
each its own OutX team in the sandbox, and a demo campaign that rotates over two of them.

`make run` calls this before serving. It is idempotent: it only creates what is missing, and
never changes a row a person may have edited since (a sender's pacing, the campaign).
"""

import datetime as dt

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaigns import keys, linkedin
from campaigns.donotcontact import add_entries
from campaigns.models import Campaign, ConnectionRequest, DoNotContact, Event, Prospect, Sender
from campaigns.notes import template_errors

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
DEMO_CAMPAIGN = "Demo campaign"
DEMO_NOTE = (
    "Hi {first_name|there}, I enjoyed your work at {company|your company} — "
    "would love to connect."
)
DEMO_NOTE_B = "Hello {first_name|there} — fellow {title|professional} here. Shall we connect?"
DEMO_FOLLOWUP = "Thanks for connecting, {first_name|there}! Happy to swap notes on {company|your work} any time."

# Companies the team must not approach (outx_sandbox/extension.py's COMPANIES has both).
DEMO_DO_NOT_CONTACT = [("Globex", "Existing customer"), ("Umbrella", "Competitor")]

# Three reps' LinkedIn accounts, each reached through its own team in the sandbox (one key, one
# team, one account). The first has no stored key: it uses OUTX_API_KEY, which in the demo is
# the sandbox's default key, so an install from before senders keeps its sender as the first.
# The others store theirs (a key is never stored twice: one OutX team, one sender).
DEMO_SENDERS = [
    {"name": "Ada's LinkedIn", "team": "Ada's team", "api_key": None},
    {"name": "Grace's LinkedIn", "team": "Grace's team", "api_key": "sandbox-key-grace"},
    {"name": "Linus's LinkedIn", "team": "Linus's team", "api_key": "sandbox-key-linus"},
]
# The demo campaign rotates over the first two; the third shows a sender with nothing to do.
DEMO_CAMPAIGN_SENDERS = 2

# Seconds instead of minutes, every day and hour, so a newcomer sees invitations go out
# within a minute. The model's defaults (the safe production values) stay as they are.
DEMO_PACING = {
    "min_spacing_seconds": 5,
    "max_spacing_seconds": 10,
    "daily_limit": 50,
    "weekly_limit": 200,
    "working_days": [0, 1, 2, 3, 4, 5, 6],
    "work_start": dt.time(0, 0),
    "work_end": dt.time(23, 59),
    # Acceptances show up within a minute or two (the sandbox accepts after 20 s).
    "acceptance_check_minutes": 1,
}

# Invented people. A member's URN is urn:li:fsd_profile:ACoAA…; the last two are known only by
# their profile URL, as when a user pastes addresses (OutX's fetch-profile gives their URN).
DEMO_PROSPECTS = [
    {"profile_urn": "urn:li:fsd_profile:ACoAAB3kQ7sBxW2mZr8TnV4pLc9YdEf1GhJ5uKo",
     "first_name": "Maya", "last_name": "Okafor", "company": "Northwind Logistics",
     "title": "Head of Operations", "location": "Lagos, Nigeria",
     "headline": "Head of Operations at Northwind Logistics"},
    {"profile_urn": "urn:li:fsd_profile:ACoAAC9pRt2QmLx4VbN7sKe1WzHa6JdYf3Uc8Go",
     "first_name": "Lukas", "last_name": "Brandt", "company": "Helio Grid GmbH",
     "title": "VP Engineering", "location": "Berlin, Germany",
     "headline": "VP Engineering · energy software"},
    {"profile_urn": "urn:li:fsd_profile:ACoAAD1xMn5KqPz8TwR3bLs6VeJc2HyGa9Fu4Nd",
     "first_name": "Priya", "last_name": "Raman", "company": "Lumen Analytics",
     "title": "Data Science Lead", "location": "Bengaluru, India",
     "headline": "Data Science Lead at Lumen Analytics"},
    {"profile_urn": "urn:li:fsd_profile:ACoAAE6vTy1NsWq3KmZ8pRd5LbXc7JfHe2Ga9Uo",
     "first_name": "Tomás", "last_name": "Herrera", "company": "Cobalt Retail",
     "title": "Chief Revenue Officer", "location": "Madrid, Spain",
     "headline": "CRO · retail growth"},
    {"profile_urn": "urn:li:fsd_profile:ACoAAF2bKc8RwHn6QzT1mVs4PxLd9YjGe5Ua3Fi",
     "first_name": "Grace", "last_name": "Lindqvist", "company": "Fjord Health",
     "title": "Procurement Manager", "location": "Stockholm, Sweden",
     "headline": "Procurement Manager at Fjord Health"},
    {"profile_urn": "urn:li:fsd_profile:ACoAAG4nWe7LqBv2XsR9kTd1MzPc6HyJf8Ua3Go",
     "first_name": "Daniel", "last_name": "Achterberg", "company": "",
     "title": "Independent consultant", "location": "Utrecht, Netherlands",
     "headline": "Helping SaaS teams price their products"},
    {"profile_urn": "urn:li:fsd_profile:ACoAAH8sPd3VmKx5QtN2wLe7RbZc1JyGf4Ua9Ho",
     "first_name": "Aiko", "last_name": "Tanaka", "company": "Kiso Robotics",
     "title": "Product Manager", "location": "Osaka, Japan",
     "headline": "Product Manager · industrial robots"},
    {"profile_urn": "urn:li:fsd_profile:ACoAAJ5tRw9NqLm1XbV6sKd3PzHe8YcGf2Ua7Jo",
     "first_name": "", "last_name": "", "company": "Brightline Studio",
     "title": "Founder", "location": "Toronto, Canada",
     "headline": "Founder at Brightline Studio"},
    {"profile_url": "https://www.linkedin.com/in/ada-lovelace-demo",
     "first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines Ltd",
     "title": "Head of Research", "location": "London, United Kingdom",
     "headline": "Head of Research at Analytical Engines Ltd"},
    {"profile_url": "https://www.linkedin.com/in/samir-haddad-demo",
     "first_name": "Samir", "last_name": "Haddad", "company": "Cedar Payments",
     "title": "Head of Partnerships", "location": "Dubai, United Arab Emirates",
     "headline": "Partnerships · payments"},
]


class Command(BaseCommand):
    help = (
        "Create the demo login (demo / demo), three demo senders (each its own sandbox team) "
        "and a demo campaign over two of them, if missing. "
        "Refuses to run with DJANGO_DEBUG=0 unless given --force."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force", action="store_true",
            help="Run even with DJANGO_DEBUG=0, creating the superuser demo / demo on this site.",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            # A superuser whose password is in the README would be anyone's way in.
            raise CommandError(
                f"demo_setup refuses to run with DJANGO_DEBUG=0: it creates the superuser "
                f"{DEMO_USERNAME!r} with the password {DEMO_PASSWORD!r}, which anyone could log in "
                f"as. Run it on a development copy (DJANGO_DEBUG=1), or add --force if this site "
                f"really is a demo."
            )
        if errors := template_errors(DEMO_NOTE + DEMO_NOTE_B + DEMO_FOLLOWUP):
            raise CommandError(errors[0])
        with transaction.atomic():
            user = self.demo_user()
            senders = self.demo_senders(user)
            self.demo_campaign(user, senders[:DEMO_CAMPAIGN_SENDERS])
            self.demo_do_not_contact(user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Log in at http://127.0.0.1:{settings.PORT}/ as {DEMO_USERNAME} / {DEMO_PASSWORD}"
            )
        )

    def demo_user(self):
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is not None:
            self.stdout.write(f"User {DEMO_USERNAME!r} exists; left as it is.")
            return user
        user = User.objects.create_superuser(DEMO_USERNAME, email="", password=DEMO_PASSWORD)
        self.stdout.write(f"Created the admin user {DEMO_USERNAME!r} (password {DEMO_PASSWORD!r}).")
        return user

    def demo_senders(self, user) -> list[Sender]:
        """The demo's senders, each with its sandbox team. Without the sandbox (a demo site on
        the real OutX, given --force) only the first: the others' keys are the sandbox's."""
        sandbox_on = apps.is_installed("outx_sandbox")
        if not sandbox_on:
            self.stdout.write("The OutX sandbox is off: the demo sends from one sender, with OUTX_API_KEY.")
        wanted = DEMO_SENDERS if sandbox_on else DEMO_SENDERS[:1]
        senders = [self.demo_sender(data, user) for data in wanted]
        if sandbox_on:
            for sender, data in zip(senders, wanted):
                self.sandbox_team(sender, data["team"])
        return senders

    def demo_sender(self, data: dict, user) -> Sender:
        """The sender `data` describes, found by its key (the keyless one is the first sender
        that is none of the others), or made with demo pacing and the demo user."""
        if data["api_key"]:
            sender = Sender.objects.filter(key_fingerprint=keys.fingerprint(data["api_key"])).first()
        else:
            others = [keys.fingerprint(d["api_key"]) for d in DEMO_SENDERS if d["api_key"]]
            sender = Sender.objects.exclude(key_fingerprint__in=others).order_by("pk").first()
        if sender is not None:
            # A person may have set the pacing since; never undo that.
            self.stdout.write(
                f"Sender {sender.name!r} exists; its pacing left as it is: {sender.daily_limit} a day, "
                f"{sender.weekly_limit} a week, {sender.min_spacing_seconds}–{sender.max_spacing_seconds} s apart."
            )
            return sender
        sender = Sender(name=data["name"], **DEMO_PACING)
        if data["api_key"]:
            sender.set_api_key(data["api_key"])
        sender.full_clean()
        sender.save()
        sender.users.add(user)
        self.stdout.write(
            f"Created the sender {sender.name!r} ({sender.masked_key}) with demo pacing: {sender.daily_limit} "
            f"a day, {sender.weekly_limit} a week, {sender.min_spacing_seconds}–{sender.max_spacing_seconds} s "
            f"apart, every day, all day."
        )
        return sender

    def sandbox_team(self, sender: Sender, name: str) -> None:
        """The sandbox team the sender's key reaches, made if missing: each sender is its own
        LinkedIn account. Only the demo's keys: a real OutX key is never copied into the sandbox."""
        from outx_sandbox.models import SandboxSettings

        demo_keys = {settings.OUTX_SANDBOX_API_KEY, *(d["api_key"] for d in DEMO_SENDERS if d["api_key"])}
        api_key = sender.api_key
        if api_key not in demo_keys:
            self.stdout.write(f"Sender {sender.name!r} uses a key of its own; no sandbox team made for it.")
            return
        team, created = SandboxSettings.objects.get_or_create(api_key=api_key, defaults={"name": name})
        if created:
            self.stdout.write(f"Created the sandbox team {team.name!r} (key {api_key!r}) for {sender.name!r}.")

    def demo_do_not_contact(self, user) -> None:
        """Two companies on the do-not-contact list, both among the sandbox's made-up employers,
        so that Find prospects shows some results as on the list."""
        if DoNotContact.objects.exists():
            return
        for company, reason in DEMO_DO_NOT_CONTACT:
            add_entries([company], user, reason)
        self.stdout.write(f"Put {len(DEMO_DO_NOT_CONTACT)} companies on the do-not-contact list.")

    def demo_campaign(self, user, senders: list[Sender]) -> Campaign:
        campaign, created = Campaign.objects.get_or_create(
            name=DEMO_CAMPAIGN, owner=user,
            defaults={
                "note_template": DEMO_NOTE, "note_template_b": DEMO_NOTE_B,
                "followup_template": DEMO_FOLLOWUP, "followup_delay_minutes": 1,
            },
        )
        if not created:
            self.stdout.write(f"{DEMO_CAMPAIGN!r} exists; adding only what it lacks.")
        if created or not campaign.senders.exists():
            campaign.senders.set(senders)  # before the prospects, which are spread over them
        prospects = [self.prospect(data) for data in DEMO_PROSPECTS]
        new = [prospect for prospect in prospects if not campaign.requests.filter(prospect=prospect).exists()]
        campaign.add_prospects(new)  # spreads them over the senders and variants, writes each note
        for request in campaign.requests.filter(prospect__in=new).order_by("id"):
            Event.objects.create(
                connection_request=request, campaign=campaign, from_state="",
                to_state=ConnectionRequest.State.QUEUED, cause="Queued by demo_setup",
            )
        queued = len(new)
        if problems := campaign.launch_problems():
            raise CommandError(f"The demo campaign cannot launch: {problems[0]}")
        if campaign.state == Campaign.State.DRAFT:
            campaign.move_to(Campaign.State.ACTIVE, "Launched by demo_setup")
        if campaign.state == Campaign.State.ACTIVE:
            campaign.senders.wake()  # the worker hands out only senders whose work is due
        if created or queued:
            names = " and ".join(sender.name for sender in campaign.senders.order_by("pk"))
            self.stdout.write(
                f"{DEMO_CAMPAIGN!r}: {queued} connection request(s) queued, spread over {names}; "
                f"campaign {campaign.state}."
            )
        return campaign

    def prospect(self, data: dict) -> Prospect:
        """The prospect for this member, found by URN or profile URL, created if missing."""
        if urn := data.get("profile_urn"):
            existing = Prospect.objects.filter(profile_urn=linkedin.normalise_profile_urn(urn)).first()
        else:
            url = linkedin.normalise_profile_url(data["profile_url"])
            existing = Prospect.objects.filter(profile_url=url).first()
        if existing is not None:
            return existing
        prospect = Prospect(**data)
        prospect.full_clean()
        prospect.save()
        return prospect
