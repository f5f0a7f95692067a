"""Helpers several test files share that are not fixtures: a simulated clock for the worker,
invitations and follow-ups added to a campaign in any state, and what the pages' tests read
(a campaign page's URLs, its polling fingerprint, how many queries a page costs)."""

import datetime as dt
import itertools
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ConnectionRequest, FollowUp, Prospect, Sender
from campaigns.worker import run_tick

State = ConnectionRequest.State
SERIAL = itertools.count()
WITHDRAW_WORDS = (
    "OutX offers no way to withdraw invitations; you can withdraw them by hand on LinkedIn "
    "(My Network → Manage → Sent), and LinkedIn then blocks a new invitation to that person for about 3 weeks."
)

# --- The worker on a simulated clock ----------------------------------------------------------------

T0 = timezone.now().replace(microsecond=0)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def run_until(seconds_list):
    """One worker pass at each of these moments (seconds after T0)."""
    for seconds in seconds_list:
        run_tick(now=at(seconds))


# --- Invitations and follow-ups in any state --------------------------------------------------------


def add_request(campaign, state=State.QUEUED, variant="", **fields) -> ConnectionRequest:
    """An invitation to a new prospect, in `state`; sent, pending and accepted ones were
    submitted now, accepted ones accepted now, unless told otherwise."""
    serial = next(SERIAL)
    prospect = Prospect.objects.create(
        profile_urn=f"urn:li:fsd_profile:ACoAARequest{serial}",
        profile_url=f"https://www.linkedin.com/in/request-{serial}",
        first_name=fields.pop("first_name", f"Pat{serial}"),
        company=fields.pop("company", ""),
    )
    if state in (State.SENT, State.ACCEPTED, State.PENDING):
        fields.setdefault("submitted_at", timezone.now())
    if state == State.ACCEPTED:
        fields.setdefault("accepted_at", timezone.now())
    if "sender" not in fields:
        fields["sender"] = campaign.senders.order_by("pk").first() or Sender.get()
    return ConnectionRequest.objects.create(campaign=campaign, prospect=prospect, state=state, variant=variant, **fields)


def add_followup(request, state=FollowUp.State.SENT, message="Thanks for connecting!", **fields) -> FollowUp:
    return FollowUp.objects.create(request=request, state=state, message=message, **fields)


def long_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


# --- Reading the pages ----------------------------------------------------------------------------


def page_url(campaign):
    return reverse("campaign_detail", args=[campaign.pk])


def status_url(campaign):
    return reverse("campaign_status", args=[campaign.pk])


def fingerprint_in(html: str) -> str:
    match = re.search(r'hx-get="[^"]*[?&](?:amp;)?v=([0-9.]+)', html)
    assert match, "the page does not poll"
    return match.group(1)


def count_queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
        assert response.status_code in (200, 204, 286)
    return len(captured)


def words(html: str) -> str:
    """The HTML with each run of white space as one space, as a reader sees the text."""
    return re.sub(r"\s+", " ", html)
