"""Forms for adding prospects: a paste of profiles, a CSV upload, and its column mapping."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from ..importing import CSV_FIELDS, MAX_CSV_BYTES, MAX_CSV_ROWS, CsvError, CsvTable, paste_problems, read_csv


class PasteProfilesForm(forms.Form):
    profiles = forms.CharField(
        label="Profiles",
        # Leading blank lines count: the line numbers we report must match the person's paste.
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "autocomplete": "off"}),
        help_text=(
            "One per line: a LinkedIn profile URL (linkedin.com/in/…, any form) or a profile URN "
            "(urn:li:fsd_profile:… or the bare ACo… id). At most 1,000 lines and 100 KB at a time."
        ),
        error_messages={"required": "Paste at least one LinkedIn profile URL or URN."},
    )

    def clean_profiles(self) -> str:
        text = self.cleaned_data["profiles"]
        if not text.strip():
            raise ValidationError("Paste at least one LinkedIn profile URL or URN.")
        problems = paste_problems(text)
        if problems:
            raise ValidationError(problems)
        return text


class CsvUploadForm(forms.Form):
    csv_file = forms.FileField(
        label="CSV file",
        help_text=(
            f"A header row, then one prospect per row, with a LinkedIn profile URL or URN column. "
            f"Comma, semicolon or tab separated; at most {MAX_CSV_BYTES // (1024 * 1024)} MB "
            f"and {MAX_CSV_ROWS:,} rows."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv,text/plain"}),
    )

    def clean_csv_file(self) -> CsvTable:
        upload = self.cleaned_data["csv_file"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; at most "
                f"{MAX_CSV_BYTES // (1024 * 1024)} MB. Split it into smaller files."
            )
        try:
            return read_csv(upload.read())
        except CsvError as error:
            raise ValidationError(str(error)) from None


NOT_IN_FILE = "— not in the file —"


class ColumnMappingForm(forms.Form):
    """For each prospect field, the CSV column that holds it (or none)."""

    def __init__(self, *args, headers: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", NOT_IN_FILE), *((str(index), header) for index, header in enumerate(headers))]
        for name, label in CSV_FIELDS.items():
            self.fields[name] = forms.TypedChoiceField(
                label=label, choices=choices, required=False, coerce=int, empty_value=None
            )
        self.fields["full_name"].help_text = "Split into first and last name when those are not in the file."

    @staticmethod
    def initial_from(mapping: dict[str, int | None]) -> dict[str, str]:
        return {name: str(index) for name, index in mapping.items() if index is not None}

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("profile_url") is None and cleaned.get("profile_urn") is None:
            raise ValidationError(
                "Choose the column that holds the profile URL or the profile URN: "
                "without one, no row can be imported."
            )
        return cleaned

    def mapping(self) -> dict[str, int | None]:
        return {name: self.cleaned_data.get(name) for name in CSV_FIELDS}
