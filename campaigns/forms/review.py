"""The review's filters: one form, used by the review page and its CSV export alike."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..models import OLD_INVITATION_AGE_TEXT, Campaign, ConnectionRequest, ConnectionRequestQuerySet, RequestState, Sender
from ..textsearch import fold

# The days a filter may name. Nothing was sent before 2000 (LinkedIn began in 2003) and a day
# this far ahead is surely a typo; the bounds also keep "the day after" and the conversion to
# UTC inside what a datetime can hold (9999-12-31 + 1 day overflows).
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
DAY_RANGE_TEXT = f"{FIRST_DAY:%Y-%m-%d} to {LAST_DAY:%Y-%m-%d}"
# A campaign name filter narrows to at most this many campaigns (the newest that match).
CAMPAIGN_NAME_MATCHES = 20
DATE_ERRORS = {"invalid": "Enter a valid date. Write it as YYYY-MM-DD, for example 2024-05-31."}


def day_input(help_text: str) -> dict:
    """A date field's widget and help text, bounded to FIRST_DAY–LAST_DAY."""
    attrs = {"type": "date", "min": f"{FIRST_DAY:%Y-%m-%d}", "max": f"{LAST_DAY:%Y-%m-%d}"}
    return {
        "widget": forms.DateInput(attrs=attrs, format="%Y-%m-%d"),
        "help_text": f"{help_text} ({DAY_RANGE_TEXT}).",
    }


class PlainSelect(forms.Select):
    """A <select> of options without groups, drawn in Python: Django's Select renders each
    option through a template of its own, which for the review's 60-odd states and senders
    were a twentieth of the page's work (issue 14). Django's elements, without its blank lines."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join("", '\n  <option value="{}"{}>{}</option>', (
            (str(option["value"]), self.attributes(option["attrs"]), option["label"])
            for _group, choices, _index in widget["optgroups"] for option in choices
        ))
        return format_html('<select name="{}"{}>{}\n</select>', widget["name"], self.attributes(widget["attrs"]), options)

    @staticmethod
    def attributes(attrs: dict) -> SafeString:
        """As django/forms/widgets/attrs.html writes them: in order, True as a bare name, False and None left out."""
        return format_html_join("", "{}", (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items() if value is not False and value is not None
        ))


class SenderFilterField(forms.ModelChoiceField):
    def label_from_instance(self, sender: Sender) -> str:
        return f"{sender.name} (retired)" if sender.is_retired else sender.name


class ReviewFilterForm(forms.Form):
    """Which connection requests to review. Bound to request.GET; every field is optional.

    Without a state, the review shows every request that has left the queue: submitted,
    decided, or skipped. Choosing `Queued` shows the queue too.
    """

    state = forms.ChoiceField(
        widget=PlainSelect,
        # One state each (the API filters by these too): "Sent" here leaves out the accepted
        # ones, so it says so, where the campaign page's Sent tab counts them.
        label="State", required=False, choices=[
            ("", "Any but queued"),
            *((value, "Sent, not accepted yet" if value == RequestState.SENT else label) for value, label in RequestState.choices),
        ],
        error_messages={
            "invalid_choice": "Select a valid choice. %(value)s is not one of the available choices. "
            "Choose a state from the list.",
        },
    )
    # One campaign by id: the campaign page's links to Review (?campaign=<id>) and the API.
    campaign = forms.ModelChoiceField(
        label="Campaign", required=False, queryset=Campaign.objects.all(), widget=forms.HiddenInput,
        error_messages={
            "invalid_choice": "There is no such campaign (it may have been deleted). Choose one from the list.",
        },
    )
    # Campaigns by name: a search box, not a list of every campaign; the names it suggests come
    # from review_campaign_names as the person types.
    campaign_name = forms.CharField(
        label="Campaign", required=False, max_length=200,
        help_text=f"Part of its name; the {CAMPAIGN_NAME_MATCHES} newest campaigns that match.",
        widget=forms.TextInput(attrs={
            "list": "campaign-names", "autocomplete": "off", "hx-get": reverse_lazy("review_campaign_names"),
            "hx-trigger": "input changed delay:300ms", "hx-target": "#campaign-names", "hx-swap": "innerHTML",
        }),
    )
    # Retired senders too: their invitations stay in the review.
    sender = SenderFilterField(
        label="Sender", required=False, queryset=Sender.objects.order_by("name", "id"),
        empty_label="All senders", widget=PlainSelect,
        error_messages={
            "invalid_choice": "There is no such sender. Choose one from the list.",
        },
    )
    date_from = forms.DateField(
        label="From", required=False, error_messages=DATE_ERRORS,
        **day_input("Submitted on or after this day"),
    )
    date_to = forms.DateField(
        label="To", required=False, error_messages=DATE_ERRORS,
        **day_input("Submitted on or before this day"),
    )
    q = forms.CharField(
        label="Search", required=False, max_length=200,
        help_text="Name, company, title, headline, profile URL or note.",
    )
    old_unanswered = forms.BooleanField(
        label=f"Only invitations unanswered for over {OLD_INVITATION_AGE_TEXT}", required=False,
        help_text=f"Sent more than {OLD_INVITATION_AGE_TEXT} ago and still not accepted.",
    )

    def __init__(self, *args, time_zone: str = "UTC", **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Days are the team's days: "From 3 May" starts at midnight where the team works.
        self.time_zone = zoneinfo.ZoneInfo(time_zone)

    def clean_date_from(self) -> dt.date | None:
        return self._day_in_range(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> dt.date | None:
        return self._day_in_range(self.cleaned_data.get("date_to"))

    @staticmethod
    def _day_in_range(day: dt.date | None) -> dt.date | None:
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(
                f"{day.isoformat()} is out of range: choose a day from {DAY_RANGE_TEXT}.", code="out_of_range"
            )
        return day

    def clean_campaign_name(self) -> list[int] | None:
        """The ids of the campaigns the name filter picks (at most CAMPAIGN_NAME_MATCHES), or None."""
        name = self.cleaned_data.get("campaign_name", "").strip()
        return campaigns_named(name) if name else None

    def clean(self) -> dict:
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    @property
    def search_words(self) -> list[str]:
        return getattr(self, "cleaned_data", {}).get("q", "").split()

    def filter_requests(self, requests: ConnectionRequestQuerySet, search: str = "indexed") -> ConnectionRequestQuerySet:
        """`requests` narrowed by every filter that is valid, newest submission first.

        `search`: "indexed" looks each word up through its indexes (`requests_with_word`);
        "row by row" checks it on each row read (for a window of rows already chosen, or
        when the words are common); "" leaves the words out.

        Call after is_valid(): a field with an error is left out (and shown as an error).
        """
        data = getattr(self, "cleaned_data", {})
        state = data.get("state")
        requests = requests.filter(state=state) if state else requests.exclude(state=RequestState.QUEUED)
        if data.get("campaign"):
            requests = requests.filter(campaign=data["campaign"])
        if data.get("campaign_name") is not None:
            requests = requests.filter(campaign__in=data["campaign_name"])
        if data.get("sender"):
            requests = requests.filter(sender=data["sender"])
        if data.get("old_unanswered"):
            requests = requests.old_unanswered()
        if data.get("date_from"):
            requests = requests.filter(submitted_at__gte=self._day_start(data["date_from"]))
        if data.get("date_to"):
            requests = requests.filter(submitted_at__lt=self._day_start(data["date_to"] + dt.timedelta(days=1)))
        # Every word must match somewhere, whatever its case ("KRÜGER" finds "Krüger").
        for word in self.search_words if search else ():
            condition = Q(pk__in=requests_with_word(word)) if search == "indexed" else holding_word(word)
            requests = requests.filter(condition)
        return requests

    def _day_start(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.time_zone)


def campaigns_named(name: str) -> list[int]:
    """The newest CAMPAIGN_NAME_MATCHES campaigns whose name holds `name`, whatever its case."""
    matching = Campaign.objects.filter(name__folded_contains=name).order_by("-created_at", "-id")
    return list(matching.values_list("pk", flat=True)[:CAMPAIGN_NAME_MATCHES])


def holding_word(word: str) -> Q:
    """`requests_with_word` as a condition on each row read."""
    return Q(prospect__search_text__contains=fold(word)) | Q(note__folded_contains=word)


def requests_with_word(word: str):
    """The ids of the requests whose prospect's search text or whose note holds `word`.

    A union, not an OR: each half is read by its own index on PostgreSQL (the trigram indexes
    on the prospects' search text and on the notes), where an OR across the join reads all."""
    by_prospect = ConnectionRequest.objects.filter(prospect__search_text__contains=fold(word)).order_by().values("pk")
    by_note = ConnectionRequest.objects.filter(note__folded_contains=word).order_by().values("pk")
    return by_prospect.union(by_note)
