"""Forms of the do-not-contact list: a paste of entries, a CSV of entries, and the search."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from ..donotcontact import MAX_LINES
from ..importing import LINE_BREAK, MAX_CSV_BYTES, MAX_CSV_ROWS, CsvError, CsvTable, read_csv
from ..models import DoNotContact

MAX_PASTE_BYTES = 300 * 1024  # 5,000 lines of company names or profile URLs, with room

REASON_FIELD = {
    "label": "Reason",
    "required": False,
    "max_length": DoNotContact._meta.get_field("reason").max_length,
    "help_text": "Why nobody here may be contacted (a customer, a competitor, asked not to be contacted…).",
}


class PasteEntriesForm(forms.Form):
    entries = forms.CharField(
        label="Entries",
        strip=False,  # the line numbers reported must match the paste
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "autocomplete": "off"}),
        help_text=(
            "One per line: a person's LinkedIn profile URL or URN, a company's name, or a LinkedIn company "
            f"page (linkedin.com/company/…). At most {MAX_LINES:,} lines at a time."
        ),
        error_messages={"required": "Paste at least one profile or company."},
    )
    reason = forms.CharField(**REASON_FIELD)

    def clean_entries(self) -> str:
        text = self.cleaned_data["entries"]
        if not text.strip():
            raise ValidationError("Paste at least one profile or company.")
        size = len(text.encode("utf-8"))
        if size > MAX_PASTE_BYTES:
            raise ValidationError(
                f"The paste is {size / 1024:,.0f} KB; at most {MAX_PASTE_BYTES // 1024} KB at a time. Add it in several parts."
            )
        count = sum(1 for line in LINE_BREAK.split(text) if line.strip())
        if count > MAX_LINES:
            raise ValidationError(f"The paste has {count:,} lines; at most {MAX_LINES:,} at a time. Add it in several parts.")
        return text

    def lines(self) -> list[str]:
        return LINE_BREAK.split(self.cleaned_data["entries"])


class EntriesCsvForm(forms.Form):
    csv_file = forms.FileField(
        label="CSV file",
        help_text=(
            "A header row, then one entry per row: a column named Entry (or LinkedIn URL, Profile, Company) and, "
            f"if you wish, a Reason column. At most {MAX_CSV_BYTES // (1024 * 1024)} MB and {MAX_CSV_ROWS:,} rows."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv,text/plain"}),
    )
    reason = forms.CharField(
        **{**REASON_FIELD, "help_text": "For the rows whose Reason cell is empty (or if the file has no Reason column)."}
    )

    def clean_csv_file(self) -> CsvTable:
        upload = self.cleaned_data["csv_file"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; at most {MAX_CSV_BYTES // (1024 * 1024)} MB. "
                "Split it into smaller files."
            )
        try:
            return read_csv(upload.read(), what="entries")
        except CsvError as error:
            raise ValidationError(str(error)) from None


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200, help_text="Entry, company or reason.")
