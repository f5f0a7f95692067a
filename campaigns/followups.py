"""The follow-up message, sent once an invitation has been accepted — never twice.

A campaign with a follow-up template queues one FollowUp per accepted invitation, its
configured delay after the acceptance. As a kind of OutX action (lifecycle.py) it shares the
account's pacing with invitations (working hours, spacing, OutX's ~50 actions an hour; not the
invitation caps) and the same discipline: claimed and committed as `submitting` before the
POST, `uncertain` when OutX may or may not have received it.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from . import outx, pacing
from .lifecycle import Kind, TickSummary
from .models import MESSAGE_MAX_LENGTH, Campaign, ConnectionRequest, FollowUp, Sender
from .notes import NoteTemplateError, render_note, utf16_length
from .sending import action_decision


class FollowUps(Kind):
    model = FollowUp
    label = "Follow-up"
    created_count = "followups"
    sent_cause = "message sent (OutX task completed)."

    def decision(self, account: Sender, now: dt.datetime, budget=None) -> pacing.Decision:
        return action_decision(account, now)

    sender_path = "request__sender"

    def may_have_work(self, sender: Sender) -> bool:
        return self.queued().filter(request__sender=sender).exists()

    def next_queued(self, sender: Sender, now: dt.datetime, summary: TickSummary) -> FollowUp | None:
        return self.queued().filter(request__sender=sender).select_related("request__prospect").order_by("id").first()

    @staticmethod
    def queued():
        # A follow-up to someone marked as having answered is cancelled by the mark; this keeps
        # one queued in the same instant from going out.
        return FollowUp.objects.filter(
            state=FollowUp.State.QUEUED, request__campaign__state=Campaign.State.ACTIVE, request__response="",
        )

    def post(self, client: outx.OutxClient, item: FollowUp) -> outx.TaskCreated:
        return client.send_message(item.request.prospect.profile_urn, item.message)


FOLLOW_UPS = FollowUps()


def queue_due_followups(sender: Sender, now: dt.datetime) -> int:
    """Queue the sender's follow-ups whose delay after acceptance has passed; returns how many.
    A follow-up goes out from the sender that invited; none to an invitee a person marked as
    having replied or not interested (the conversation is under way, or unwelcome)."""
    accepted = (
        ConnectionRequest.objects.filter(
            sender=sender, state=ConnectionRequest.State.ACCEPTED, followup__isnull=True,
            campaign__state=Campaign.State.ACTIVE, response="",
        )
        .exclude(campaign__followup_template="")
        .select_related("campaign", "prospect")
    )
    queued = 0
    for request in accepted:
        campaign = request.campaign
        if request.accepted_at and request.accepted_at > now - dt.timedelta(minutes=campaign.followup_delay_minutes):
            continue
        try:
            message, problem = render_note(campaign.followup_template, request.prospect.note_values()), ""
        except NoteTemplateError as error:
            message, problem = "", str(error)
        if utf16_length(message) > MESSAGE_MAX_LENGTH:  # the names filled in can make it too long
            problem = f"with the names filled in it is longer than {MESSAGE_MAX_LENGTH:,} characters"
        try:
            with transaction.atomic():
                followup = FollowUp.objects.create(request=request, message=message)
        except IntegrityError:
            continue  # another worker queued it first: one follow-up per invitation
        if problem:
            followup.move_to(FollowUp.State.SKIPPED, f"Follow-up: not sent, the message cannot be written: {problem}")
        else:
            queued += 1
    return queued
