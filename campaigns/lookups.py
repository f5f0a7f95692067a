"""The profile look-up as a kind of OutX action: a prospect known only by profile URL gets its
URN (and any name the note waits for) from OutX's fetch-profile before it can be invited.

Look-ups are LinkedIn actions too, spaced like invitations but on their own clock. Reading a
profile invites nobody, so a look-up OutX may or may not have received is simply asked again.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q

from . import outx, pacing
from .lifecycle import Kind, TickSummary
from .linkedin import InvalidProfile, profile_slug
from .models import Campaign, ConnectionRequest, ProfileLookup, Prospect, Sender, fit
from .sending import lookup_decision


class Lookups(Kind):
    model = ProfileLookup
    label = "Profile look-up"
    created_count = "lookups"
    spacing_field = "next_lookup_at"
    resend_when_unsure = True
    abandoned_cause = "the worker stopped while asking OutX; it will be asked again."
    lost_cause = "OutX no longer knows the profile look-up ({message})."

    def says(self, text: str) -> str:
        return super().says(f"profile look-up: {text}")

    def decision(self, account: Sender, now: dt.datetime, budget=None) -> pacing.Decision:
        return lookup_decision(account, now)

    def may_have_work(self, sender: Sender) -> bool:
        return Prospect.objects.waiting_for_urn(sender).exists()

    def next_queued(self, sender: Sender, now: dt.datetime, summary: TickSummary) -> ProfileLookup | None:
        """A look-up of the sender's sent back to the queue, else a new one for the first
        prospect waiting in the sender's queue (one look-up per prospect, on whichever sender
        needs it first)."""
        waiting = Prospect.objects.waiting_for_urn()
        lookup = (
            ProfileLookup.objects.filter(state=ProfileLookup.State.QUEUED, prospect__in=waiting)
            .filter(Q(sender=sender) | Q(sender__isnull=True))
            .order_by("id")
            .first()
        )
        if lookup is not None:
            if lookup.sender_id is None:
                ProfileLookup.objects.filter(pk=lookup.pk).update(sender=sender)
                lookup.sender = sender
            return lookup
        prospect = Prospect.objects.needing_lookup(sender).order_by("id").first()
        if prospect is None:
            return None
        try:
            with transaction.atomic():
                return ProfileLookup.objects.create(prospect=prospect, sender=sender)
        except IntegrityError:
            return None  # another sender's worker is looking this person up

    def post(self, client: outx.OutxClient, item: ProfileLookup) -> outx.TaskCreated:
        try:
            slug = profile_slug(item.prospect.profile_url)
        except InvalidProfile as error:
            raise outx.OutxBadRequest(str(error)) from None  # refused before any call, like a 400
        return client.fetch_profile(slug)

    def finish(self, item: ProfileLookup, status: outx.TaskStatus, fields: dict, summary: TickSummary) -> None:
        profile = status.profile()
        if profile.urn is None:
            reason = f"OutX could not read the profile: {outx.describe_output(status.task_output)}"
            item.move_to(ProfileLookup.State.NOT_SENT, self.says(reason), task_output=status.stored_output, **fields)
            self.after_failure(item, reason)
            return
        # The prospect first: should that fail, the look-up is quarantined, not marked done.
        apply_looked_up_profile(item.prospect, profile)
        item.move_to(
            ProfileLookup.State.SENT, self.says(f"OutX read the profile ({profile.urn})."),
            task_output=status.stored_output, **fields,
        )

    def after_failure(self, item: ProfileLookup, reason: str) -> None:
        fail_lookup(item.prospect, reason)


LOOKUPS = Lookups()
# The prospect's details a look-up fills where they are empty.
LOOKED_UP_DETAILS = ("first_name", "last_name", "company", "title", "headline", "location")


def fail_lookup(prospect: Prospect, reason: str) -> None:
    """The prospect cannot be looked up: it is never invited, and its queued requests say why."""
    Prospect.objects.filter(pk=prospect.pk).update(lookup_error=reason[:500])
    for request in prospect.requests.filter(state=ConnectionRequest.State.QUEUED):
        request.move_to(ConnectionRequest.State.SKIPPED, f"Could not look up the LinkedIn profile: {reason}")


def apply_looked_up_profile(prospect: Prospect, profile: outx.Profile) -> None:
    """Give the prospect its URN, and the details it lacks (names, company, title, headline,
    location: what the note's variables read); what a person gave is never overwritten. If
    another prospect already has the URN, they are one person."""
    urn = profile.urn
    details = {
        name: getattr(prospect, name) or fit(getattr(profile, name), Prospect, name)
        for name in LOOKED_UP_DETAILS
    }
    try:
        with transaction.atomic():
            Prospect.objects.filter(pk=prospect.pk).update(profile_urn=urn, lookup_error="", **details)
    except IntegrityError:
        existing = Prospect.objects.get(profile_urn=urn)
        merge_into_existing(prospect, existing)
        prospect = existing
        missing = {name: fit(getattr(profile, name), Prospect, name) for name in LOOKED_UP_DETAILS if not getattr(existing, name)}
        if any(missing.values()):
            Prospect.objects.filter(pk=existing.pk).update(**{name: value for name, value in missing.items() if value})
    # The name may be what the note was waiting for: this prospect's queued notes only.
    for campaign in Campaign.objects.filter(requests__prospect=prospect, requests__state=ConnectionRequest.State.QUEUED).distinct():
        campaign.render_notes_of([prospect.pk])
    skip_unsendable_after_lookup(prospect)


# Campaigns that were launched counting on the look-up ("it is filled in once OutX has looked
# up the profile"). A draft's launch check lists the row instead, with the fix next to it.
LAUNCHED_STATES = (Campaign.State.ACTIVE, Campaign.State.PAUSED, Campaign.State.COMPLETED)


def skip_unsendable_after_lookup(prospect: Prospect) -> None:
    """The look-up is over: an invitation to the prospect whose note it did not make sendable
    would otherwise wait in the queue for ever, so it leaves it now, skipped with the reason
    ("No value for {company} after the LinkedIn look-up…"), and counts among those not sent."""
    stuck = ConnectionRequest.objects.filter(prospect=prospect, campaign__state__in=LAUNCHED_STATES).unsendable()
    for request in stuck.order_by("id"):
        request.move_to(ConnectionRequest.State.SKIPPED, after_lookup_reason(request.note_problem))


def after_lookup_reason(note_problem: str) -> str:
    """ "No value for {company} after the LinkedIn look-up, and no fallback (write {company|…})." """
    if note_problem.startswith("No value for ") and " and no fallback" in note_problem:
        return note_problem.replace(" and no fallback", " after the LinkedIn look-up, and no fallback", 1)
    return f"{note_problem} (after the LinkedIn look-up)"


def merge_into_existing(duplicate: Prospect, existing: Prospect) -> None:
    """The URL-only prospect turned out to be a member we already know by URN."""
    with transaction.atomic():
        for request in duplicate.requests.all():
            if not existing.requests.filter(campaign_id=request.campaign_id).exists():
                ConnectionRequest.objects.filter(pk=request.pk).update(prospect=existing)
            elif request.state == ConnectionRequest.State.QUEUED:
                request.move_to(ConnectionRequest.State.SKIPPED, f"Same person as {existing}, who is already in this campaign.")
        if duplicate.requests.exists():
            # Kept for its skipped request's history; never looked up again.
            Prospect.objects.filter(pk=duplicate.pk).update(lookup_error=f"Same person as {existing} (known by URN).")
            return
        url = duplicate.profile_url
        duplicate.delete()
        if existing.profile_url is None:
            Prospect.objects.filter(pk=existing.pk).update(profile_url=url)
