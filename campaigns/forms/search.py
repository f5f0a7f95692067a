"""The "Find prospects" form: OutX's search filters, the page size, and the sender the search
runs on; and the form that adds found profiles to a campaign."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from ..models import Campaign, ProfileSearch, Sender
from ..outx import SEARCH_MAX_GEO_URNS, geo_id

PAGE_SIZES = [(10, "10"), (25, "25"), (50, "50")]
GEO_SEPARATORS = re.compile(r"[,;\s]+")


class SenderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, sender: Sender) -> str:
        return sender.name


class SearchForm(forms.ModelForm):
    geo_urns = forms.CharField(
        label="Places (LinkedIn geographic URNs)", required=False, max_length=400,
        help_text="Comma-separated ids or URNs, such as 103644278 (United States) or urn:li:geo:101165590 (United Kingdom).",
    )
    count = forms.TypedChoiceField(label="Results per page", choices=PAGE_SIZES, coerce=int, initial=25)
    sender = SenderChoiceField(
        label="Search from", queryset=Sender.objects.none(), empty_label=None,
        help_text="The LinkedIn account that runs the search: it counts against that account's hourly budget.",
    )

    class Meta:
        model = ProfileSearch
        fields = ["keywords", "title", "company", "first_name", "last_name", "geo_urns", "count", "sender"]
        labels = {"keywords": "Keywords", "title": "Job title", "company": "Current company"}
        help_texts = {"keywords": "Searched in names, headlines and profiles."}

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["sender"].queryset = Sender.objects.usable_by(user).order_by("name", "pk")

    def check_sender(self) -> None:
        """Refuse (403) a posted sender the person may not use: never offered, so a forged post,
        not a slip to correct on the form."""
        posted = self.data.get(self.add_prefix("sender"), "")
        if str(posted).isdigit():
            sender = Sender.objects.working().filter(pk=posted).first()
            if sender is not None and not sender.may_be_used_by(self.user):
                raise PermissionDenied(f"You may not search from {sender.name}.")

    def clean_geo_urns(self) -> list[str]:
        text = self.cleaned_data.get("geo_urns") or ""
        ids: list[str] = []
        refused: list[str] = []
        for part in GEO_SEPARATORS.split(text.strip()):
            if not part:
                continue
            found = geo_id(part)
            if found is None:
                refused.append(part[:60])
            elif found not in ids:
                ids.append(found)
        if refused:
            raise ValidationError(
                f"Not a LinkedIn geographic URN: {', '.join(refused[:5])}. "
                "Use the digits (103644278) or the whole URN (urn:li:geo:103644278)."
            )
        if len(ids) > SEARCH_MAX_GEO_URNS:
            raise ValidationError(f"At most {SEARCH_MAX_GEO_URNS} places per search.")
        return ids

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in ("keywords", "title", "company", "first_name", "last_name"):
            if isinstance(cleaned.get(name), str):
                cleaned[name] = cleaned[name].strip()
        if not any(cleaned.get(name) for name in ProfileSearch.FILTERS) and not self.errors:
            raise ValidationError("Give at least one filter: keywords, a title, a company, a name or a place.")
        return cleaned

    def save_for(self, user) -> ProfileSearch:
        search = self.save(commit=False)
        search.requested_by = user
        search.start = 0
        search.save()
        return search


class AddResultsForm(forms.Form):
    """Which found profiles go to which campaign: the chosen few, or all of the page."""

    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), empty_label=None, label="Campaign")
    results = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    add = forms.ChoiceField(choices=[("selected", "Add selected"), ("all", "Add all")], initial="selected")

    def __init__(self, *args, search: ProfileSearch, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        self.fields["results"].choices = [(pk, pk) for pk in search.results.values_list("pk", flat=True)]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("add") == "selected" and not cleaned.get("results") and not self.errors:
            raise ValidationError("Tick at least one person to add, or choose “Add all”.")
        return cleaned
