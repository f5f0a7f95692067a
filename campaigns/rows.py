"""The rows of the long tables (Review's, the campaign page's, the campaigns' on Home and the
campaign list), the buttons a person marks an invitation with and Home's sender cards: what a
page draws many times over, written in Python rather than in templates.

Django's template engine spent about 0.7 ms on each of these rows (a lookup, a filter and an
escape per cell, an include and four URL reversals per row): two fifths of Review and of the
campaign page, 50 rows at a time. Python writes the same HTML, escaped the same way
(campaigns.markup), at a tenth of the cost (issue 14). The templates still hold the pages
around them, and name each row as a partial (`review.html#review-row`,
`campaign_detail.html#request-row`) that htmx answers redraw.

Times are shown as the templates showed them: in the viewer's time zone (the current one),
with the exact moment in each <time>'s datetime attribute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.timesince import timesince

from . import charts, markup
from .markup import html_format, html_join
from .models import OLD_INVITATION_AGE_TEXT, ConnectionRequest

NOTHING = "—"
State = ConnectionRequest.State
# A stand-in id, reversed once into a URL whose other parts never change (`url_for_each`): long
# and unlike anything else in a path, so that it is found only where the id goes.
SAMPLE_ID = 987654321987


def url_for_each(name: str, *args) -> Callable[[int], str]:
    """`reverse(name, args=[pk, *args])` for many pks, reversed once: a reversal is 25 µs, and a
    page of rows asked for 200 of them."""
    head, found, tail = reverse(name, args=[SAMPLE_ID, *args]).partition(str(SAMPLE_ID))
    if not found:
        raise ValueError(f"{name}'s URL does not hold its id as it was given")
    return lambda pk: f"{head}{pk}{tail}"


class Times:
    """Times in the viewer's zone (the current one when made), as the pages show them; Django's
    date formatting cost 25 µs a time, a tenth of a row."""

    def __init__(self):
        self.zone = timezone.get_current_timezone()

    def tag(self, moment: dt.datetime | None, shown: Callable[[dt.datetime], str], *, utc: bool) -> str:
        """<time> of `moment`, shown by `shown` in the viewer's zone; its datetime attribute in
        UTC, or (`utc=False`) in the viewer's zone with its offset. "" without a moment."""
        if moment is None:
            return ""
        here = moment.astimezone(self.zone)
        exact = moment.astimezone(dt.UTC) if utc else here
        return html_format('<time datetime="{exact}">{shown}</time>', exact=exact.isoformat(), shown=shown(here))


class MarkButtons:
    """The marks a person may put on an invitation (Replied, Not interested, or Clear mark) and
    "Do not contact": buttons of the page's one form, #row-actions (its token, the origin and
    where the page stands). On a list (`origin` "campaign" or "review") htmx redraws the row."""

    def __init__(self, origin: str):
        self.response_url = url_for_each("request_response")
        self.do_not_contact_url = url_for_each("request_do_not_contact")
        self.htmx = origin != "detail"

    def __call__(self, row: ConnectionRequest, reason_placeholder: str | None = None) -> SafeString:
        """The buttons for `row`; with `reason_placeholder`, a reason field for the do-not-contact list too."""
        prospect, response_url = str(row.prospect), self.response_url(row.pk)
        marks = []
        if row.response:
            marks.append(button(response_url, "Clear mark", f"Clear the mark on {prospect}", "", htmx=self.htmx))
        elif row.may_be_marked:
            marks.append(button(response_url, "Replied", f"Mark {prospect} as replied", "replied", htmx=self.htmx))
            marks.append(button(
                response_url, "Not interested", f"Mark {prospect} as not interested", "not_interested", htmx=self.htmx,
            ))
        if reason_placeholder is not None:
            marks.append(html_format(
                '<label for="dnc-reason-{pk}">Reason</label> <input type="text" form="row-actions" id="dnc-reason-{pk}" '
                'name="reason" maxlength="500" placeholder="{placeholder}">', pk=row.pk, placeholder=reason_placeholder,
            ))
        marks.append(button(self.do_not_contact_url(row.pk), "Do not contact", f"Do not contact {prospect}", htmx=self.htmx))
        return html_format('<div class="mark-buttons">{marks}</div>', marks=html_join(marks))


def button(url: str, label: str, aria_label: str, response: str | None = None, *, htmx: bool = True) -> SafeString:
    """A button of the page's #row-actions form; with `htmx`, posted by htmx, which puts the
    answer in place of its row (on a list), else as a plain form (an invitation's own page)."""
    return html_format(
        '<button type="submit" form="row-actions" formaction="{url}"{response}{htmx} class="link-button" '
        'aria-label="{aria_label}">{label}</button>',
        url=url, response=response_attributes(response), aria_label=aria_label, label=label,
        htmx=html_format(' hx-post="{url}" hx-target="closest tr" hx-swap="outerHTML"', url=url) if htmx else "",
    )


def response_attributes(response: str | None) -> SafeString:
    return SafeString("") if response is None else html_format(' name="response" value="{value}"', value=response)


def row_message_html(message: str) -> str:
    return html_format('<p class="request-message" role="status">{message}</p>', message=message) if message else ""


def response_badge(row: ConnectionRequest) -> str:
    if not row.response:
        return ""
    return html_format(' <span class="response-badge response-{response}">{label}</span>',
                       response=row.response, label=row.get_response_display())


class ReviewRows:
    """Review's rows. Each row needs `prospect`, `campaign`, `sender` and `followup` loaded, and
    `can_change` and `unanswered_too_long` set (views.review)."""

    # What a row shows and Review asks of it (its owner, whether it is unanswered too long): read
    # only these, Review's main query takes half the time (12 ms to 6 at 1M rows), leaving the
    # campaigns' templates, the tasks' output and the senders' keys in the database.
    COLUMNS = (
        "state", "note", "submitted_at", "completed_at", "response", "campaign_id", "prospect_id", "sender_id",
        "campaign__name", "campaign__owner_id",
        "prospect__first_name", "prospect__last_name", "prospect__company", "prospect__profile_urn", "prospect__profile_url",
        "sender__name", "followup__state", "followup__message", "followup__request_id",
    )

    def __init__(self):
        self.detail_url = url_for_each("request_detail")
        self.campaign_url = url_for_each("campaign_detail")
        self.mark_buttons = MarkButtons("review")
        self.times = Times()

    def __call__(self, row: ConnectionRequest, message: str = "") -> SafeString:
        prospect = row.prospect
        followup = row.followup_if_any
        return html_format(
            '<tr id="review-{pk}">\n'
            '<td><a href="{detail}">{prospect}</a>{company}</td>\n'
            '<td><a href="{campaign_url}">{campaign}</a></td>\n'
            '<td class="review-sender">{sender}</td>\n'
            '<td><span class="state state-{state}">{state_label}</span>{unanswered}{response}</td>\n'
            '<td class="review-note">{note}</td>\n'
            '<td>{submitted}</td>\n'
            '<td>{completed}</td>\n'
            '<td>{followup}</td>\n'
            '<td class="review-row-actions">{buttons}{message}</td>\n'
            '</tr>',
            pk=row.pk, detail=self.detail_url(row.pk), prospect=str(prospect),
            company=html_format('<br><span class="muted">{company}</span>', company=prospect.company) if prospect.company else "",
            campaign_url=self.campaign_url(row.campaign_id), campaign=row.campaign.name,
            sender=row.sender.name if row.sender else NOTHING,
            state=row.state, state_label=row.get_state_display(),
            unanswered=html_format(' <span class="review-unanswered-mark">Unanswered for over {age}</span>',
                                   age=OLD_INVITATION_AGE_TEXT) if row.unanswered_too_long else "",
            response=response_badge(row),
            note=Truncator(row.note).chars(80),
            submitted=self.times.tag(row.submitted_at, markup.minute, utc=True) or NOTHING,
            completed=self.times.tag(row.completed_at, markup.minute, utc=True) or NOTHING,
            followup=html_format(
                '<span class="followup-state followup-state-{state}" title="{message}">{label}</span>',
                state=followup.state, message=followup.message, label=followup.get_state_display(),
            ) if followup else NOTHING,
            buttons=self.mark_buttons(row) if row.can_change else "",
            message=row_message_html(message),
        )


class RequestRows:
    """The campaign page's rows. Each row needs `prospect`, `sender` and `followup` loaded, and
    `waiting`, `stale_warning` and `unanswered_warning` set (views.campaigns.explain_waiting);
    `can_change`: whether the viewer may act on the campaign's invitations."""

    # The buttons of a row by its state, beside the marks: (action, label, aria-label's start).
    ACTIONS = {
        State.UNCERTAIN: (("retry", "Retry", "Retry"), ("close", "Close", "Close")),
        State.QUEUED: (("remove", "Remove", "Remove"),),
    }
    FOLLOWUP_ACTIONS = (
        ("followup-retry", "Retry follow-up", "Retry the follow-up to"),
        ("followup-close", "Close follow-up", "Close the follow-up to"),
    )

    # What a row shows and what says why it waits reads (views.campaigns.explain_waiting:
    # SUBMIT_RULES, why_waiting, why_stale, followup_waiting), its sender whole (its pacing):
    # the rest of the request and of the prospect stays in the database. Its campaign is the
    # page's own.
    COLUMNS = (
        "state", "note", "note_problem", "variant", "response", "submitted_at", "updated_at", "accepted_at",
        "completed_at", "campaign_id", "prospect_id", "sender",
        "prospect__first_name", "prospect__last_name", "prospect__company", "prospect__profile_urn",
        "prospect__profile_url", "prospect__lookup_error",
        "followup__state", "followup__message", "followup__request_id",
    )

    def __init__(self, *, now: dt.datetime, can_change: bool, show_variants: bool):
        self.now, self.can_change, self.show_variants = now, can_change, show_variants
        self.action_urls = {
            action: url_for_each("request_action", action)
            for action in ("retry", "close", "remove", "followup-retry", "followup-close")
        }
        self.mark_buttons = MarkButtons("campaign")
        self.times = Times()

    def actions(self, row: ConnectionRequest, followup, message: str) -> SafeString:
        prospect = str(row.prospect)
        actions = self.ACTIONS.get(row.state, ())
        if followup is not None and followup.state == "uncertain":
            actions += self.FOLLOWUP_ACTIONS
        buttons = [button(self.action_urls[action](row.pk), label, f"{verb} {prospect}") for action, label, verb in actions]
        buttons.append(self.mark_buttons(row))
        return html_format('<td class="request-actions">{buttons}{message}</td>\n',
                           buttons=html_join(buttons), message=row_message_html(message))

    def waiting(self, row: ConnectionRequest) -> SafeString:
        since = getattr(row, "waiting_since", None)
        return html_format(
            '{waiting}{since}{stale}{unanswered}', waiting=row.waiting,
            since=html_format(
                ' (submitted <time datetime="{exact}" data-relative-since="{seconds}">{ago}</time> ago)',
                exact=since.astimezone(self.times.zone).isoformat(), seconds=int(since.timestamp()),
                ago=timesince(since, self.now),
            ) if since else "",
            stale=html_format(' <strong class="request-stale">{warning}</strong>', warning=row.stale_warning)
            if row.stale_warning else "",
            unanswered=html_format(' <strong class="request-unanswered">{warning}</strong>', warning=row.unanswered_warning)
            if row.unanswered_warning else "",
        )

    def __call__(self, row: ConnectionRequest, message: str = "") -> SafeString:
        prospect = row.prospect
        # Its follow-up is shown once it is accepted.
        followup = row.followup_if_any if row.state == State.ACCEPTED else None
        return html_format(
            '<tr id="request-{pk}" class="request-row">\n'
            '<td>{prospect}</td>\n'
            '<td>{company}</td>\n'
            '<td><span class="request-state request-state-{state}">{state_label}</span>{followup_state}{response}</td>\n'
            '{variant}'
            '<td class="request-sender">{sender}</td>\n'
            # No white space before the follow-up: the note cell keeps the note's own line breaks.
            '<td class="request-note">{note}{followup_message}</td>\n'
            '<td>{submitted}</td>\n'
            '<td class="request-waiting">{waiting}</td>\n'
            '{actions}'
            '</tr>',
            pk=row.pk,
            prospect=html_format('<a href="{url}" rel="noopener noreferrer">{name}</a>', url=prospect.profile_url, name=str(prospect))
            if prospect.profile_url else str(prospect),
            company=prospect.company, state=row.state, state_label=row.get_state_display(),
            followup_state=html_format(
                ' <span class="request-followup">Follow-up: <span class="followup-state followup-state-{state}">{label}</span></span>',
                state=followup.state, label=followup.get_state_display(),
            ) if followup else "",
            response=response_badge(row),
            variant=html_format('<td class="request-variant">{variant}</td>\n', variant=row.variant or NOTHING)
            if self.show_variants else "",
            sender=row.sender.name if row.sender else NOTHING,
            note=row.note,
            followup_message=html_format(
                '<span class="request-followup-message" title="{message}">Follow-up: {short}</span>',
                message=followup.message, short=Truncator(followup.message).chars(140),
            ) if followup else "",
            submitted=self.times.tag(row.submitted_at, markup.weekday_minute, utc=False),
            waiting=self.waiting(row),
            actions=self.actions(row, followup, message) if self.can_change else "",
        )


class CampaignRows:
    """A campaign's row in the tables of Home and the campaign list. Load the campaigns with
    `with_request_counts()`, their owner and their senders (ordered) prefetched."""

    def __init__(self):
        self.campaign_url = url_for_each("campaign_detail")

    def __call__(self, campaign) -> SafeString:
        senders = [sender.name for sender in campaign.senders.all()]
        counts = campaign.request_counts
        return html_format(
            '<tr>\n'
            '<td><a href="{url}">{name}</a></td>\n'
            '<td>{owner}</td>\n'
            '<td class="campaign-senders-cell">{senders}</td>\n'
            '<td><span class="campaign-state campaign-state-{state}">{state_label}</span></td>\n'
            '<td class="progress-cell">{progress}</td>\n'
            '<td class="campaign-acceptance-cell">{acceptance}</td>\n'
            '</tr>',
            url=self.campaign_url(campaign.pk), name=campaign.name, owner=campaign.owner.get_username(),
            senders=", ".join(senders) if senders else SafeString('<span class="campaign-muted">No sender</span>'),
            state=campaign.state, state_label=campaign.get_state_display(),
            progress=charts.progress_of(counts) if counts.total
            else SafeString('<span class="campaign-muted">No prospects yet</span>'),
            acceptance=counts.acceptance,
        )


def sender_card(card) -> SafeString:
    """A sender's card on Home (views.home.SenderCard): its state, its budget against its caps,
    why its next invitation waits. A team of 48 senders made them a quarter of Home's cost
    through the template engine. A stopped sender's cause is left to the banner at the top of
    the page: said once per screen."""
    sender = card.sender
    if card.may_send_now:
        waiting = "The next queued invitation may go out now."
    else:
        waiting = f"Next invitation: {card.waiting}" if card.has_queued else card.waiting
    stale = ""
    if card.stale_count:
        stale = html_format(
            "<br><strong>{count} invitation{s} waiting for OutX's extension for more than {days} days</strong> "
            "(stale): the extension may not be running.",
            count=card.stale_count, s="" if card.stale_count == 1 else "s", days=sender.stale_after_days,
        )
    return html_format(
        '<div class="card sender-card sender-card-{state}" role="listitem" aria-labelledby="sender-{pk}-name">\n'
        '<h3 id="sender-{pk}-name">{name}</h3>\n'
        '<p class="sender-card-state"><strong>{state_label}</strong>{cause}</p>\n'
        '<dl class="sender-card-budget">\n'
        '<div><dt class="stat-label">Submitted today</dt><dd class="stat-value">{today} / {daily_limit}</dd></div>\n'
        '<div><dt class="stat-label">Submitted in the last 7 days</dt><dd class="stat-value">{week} / {weekly_limit}</dd></div>\n'
        '</dl>\n'
        '<p class="stat-note">At most {hourly} LinkedIn actions an hour (invitations, follow-ups, look-ups, searches).</p>\n'
        '<p class="waiting" role="status">{waiting}{stale}</p>\n'
        '</div>',
        state=sender.state, pk=sender.pk, name=sender.name, state_label=sender.get_state_display(),
        cause=html_format('<span class="stat-note">{cause}</span>', cause=sender.state_cause)
        if sender.state_cause and sender.is_sending else "",
        today=card.sent_today, daily_limit=sender.daily_limit, week=card.sent_this_week, weekly_limit=sender.weekly_limit,
        hourly=sender.hourly_action_limit, waiting=waiting, stale=stale,
    )
