"""The API's request and response bodies. Pydantic checks each request body's shape and answers
422 with one error per field; what a value means (is it a LinkedIn profile?) is checked per row
by the same code as the pages, so a bad row is reported and never sinks the good ones."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

# The most items one request may carry: a paste takes as many lines (campaigns/importing.py).
MAX_ITEMS = 1_000
# A string longer than this is not a name, a profile or a reason: the body is refused (422).
MAX_TEXT = 1_000


class Problem(Schema):
    detail: str


class SenderRef(Schema):
    id: int
    name: str


class CampaignRef(Schema):
    id: int
    name: str


class CampaignOut(Schema):
    id: int
    name: str
    state: str
    owner: str
    created_at: dt.datetime
    launched_at: dt.datetime | None
    counts: dict[str, int] = Field(description="Its invitations per state; every state is listed.")
    senders: list[SenderRef]
    can_add_prospects: bool = Field(description="Whether this token's user may add prospects to it (owner or admin).")


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


# --- Adding prospects -------------------------------------------------------------------------


class ProspectIn(Schema):
    """One person: a profile URL or URN (or both), and any details known. Details fill a known
    prospect's empty fields only; nothing is overwritten."""

    model_config = ConfigDict(extra="forbid")

    profile_url: str | None = Field(None, max_length=MAX_TEXT, examples=["https://www.linkedin.com/in/ada-lovelace"])
    profile_urn: str | None = Field(None, max_length=MAX_TEXT, examples=["urn:li:fsd_profile:ACoAAB3kQ7sBxW2mZr8TnV4pLc9YdEf1GhJ5uKo"])
    first_name: str = Field("", max_length=MAX_TEXT)
    last_name: str = Field("", max_length=MAX_TEXT)
    full_name: str = Field("", max_length=MAX_TEXT, description="Split into first and last name when those are empty.")
    company: str = Field("", max_length=MAX_TEXT)
    title: str = Field("", max_length=MAX_TEXT)
    headline: str = Field("", max_length=MAX_TEXT)
    location: str = Field("", max_length=MAX_TEXT)


class ProspectsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    prospects: list[ProspectIn] = Field(min_length=1, max_length=MAX_ITEMS)


class RowResult(Schema):
    index: int = Field(description="The item's position in `prospects` or `entries`, from 0.")
    status: Literal["added", "already", "refused"]
    reason: str = Field(description="Why it was not added; empty when added.")


class ProspectsResult(Schema):
    added: int
    already: int
    refused: int
    results: list[RowResult]


# --- Invitations ------------------------------------------------------------------------------


class ProspectOut(Schema):
    id: int
    first_name: str
    last_name: str
    company: str
    title: str
    headline: str
    location: str
    profile_url: str | None
    profile_urn: str | None


class InvitationOut(Schema):
    id: int
    state: str
    campaign: CampaignRef
    sender: SenderRef | None
    prospect: ProspectOut
    note: str
    variant: str
    response: str = Field(description="What the person answered, as marked by hand: replied, not_interested or empty.")
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    completed_at: dt.datetime | None
    accepted_at: dt.datetime | None
    responded_at: dt.datetime | None
    last_error: str


class InvitationPage(Schema):
    items: list[InvitationOut]
    next_cursor: str | None


class EventOut(Schema):
    at: dt.datetime
    from_state: str = Field(alias="from")
    to_state: str = Field(alias="to")
    cause: str

    model_config = ConfigDict(populate_by_name=True)


class FollowUpOut(Schema):
    state: str
    message: str
    submitted_at: dt.datetime | None
    completed_at: dt.datetime | None
    history: list[EventOut]


class InvitationDetail(InvitationOut):
    history: list[EventOut] = Field(description="Every state change, oldest first, with its cause.")
    followup: FollowUpOut | None


# --- Do not contact ---------------------------------------------------------------------------


class DoNotContactOut(Schema):
    id: int
    kind: str
    value: str
    reason: str
    added_by: str | None
    created_at: dt.datetime


class DoNotContactPage(Schema):
    items: list[DoNotContactOut]
    next_cursor: str | None


class EntryIn(Schema):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(
        max_length=MAX_TEXT,
        description="A profile URL or URN, a LinkedIn company page URL, or a company's name.",
        examples=["https://www.linkedin.com/company/acme-corp"],
    )
    reason: str = Field("", max_length=MAX_TEXT, examples=["Customer"])


class EntriesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    entries: list[EntryIn] = Field(min_length=1, max_length=MAX_ITEMS)


class EntriesResult(Schema):
    added: int
    already: int
    refused: int
    results: list[RowResult]
