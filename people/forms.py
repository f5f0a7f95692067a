"""The forms of the Users pages and of a person's own time zone."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import UsernameField
from django.core.exceptions import ValidationError

from campaigns.models import Sender

from .models import ROLE_MEANINGS, Role, generated_password
from .timezones import team_time_zone_name, time_zone_choices

ROLE_CHOICES = [(role.value, f"{role.label}: {ROLE_MEANINGS[role]}") for role in Role]


class SendersField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, sender) -> str:
        return sender.name


def senders_field(**kwargs) -> SendersField:
    return SendersField(
        label="Senders they may use", required=False,
        queryset=Sender.objects.working().order_by("name", "pk"),
        help_text="The LinkedIn accounts a member may launch campaigns on. Admins may use every sender.",
        **kwargs,
    )


class PasswordChoiceMixin:
    """A password the admin types, checked by AUTH_PASSWORD_VALIDATORS, or left blank for one
    generated here and shown once."""

    def clean_password_for(self, user) -> str:
        password = self.cleaned_data.get("password", "")
        if not password:
            return generated_password()
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            self.add_error("password", error)
        return password


PASSWORD_HELP = (
    "Leave blank to have one made for you, shown once on the next page. "
    "Either way, hand it over privately; they can change it on their account page."
)


class UserCreateForm(PasswordChoiceMixin, forms.Form):
    username = UsernameField(
        label="Username", max_length=150,
        help_text="What they log in with: letters, digits and @ . + - _ only.",
    )
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(label="Email", required=False, help_text="Optional: this site sends no mail.")
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial=Role.MEMBER, widget=forms.RadioSelect)
    senders = senders_field()
    password = forms.CharField(
        label="Initial password", required=False, strip=False, help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        User = get_user_model()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("Someone already has this username: choose another.")
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        if "username" in cleaned:
            user = get_user_model()(
                username=cleaned["username"], first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""), email=cleaned.get("email", ""),
            )
            cleaned["password_given"] = bool(cleaned.get("password"))
            cleaned["password"] = self.clean_password_for(user)
        return cleaned


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Their role", choices=ROLE_CHOICES, widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SendersForm(forms.Form):
    senders = senders_field()


class PasswordResetForm(PasswordChoiceMixin, forms.Form):
    password = forms.CharField(
        label="New password", required=False, strip=False, help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["password_given"] = bool(cleaned.get("password"))
        cleaned["password"] = self.clean_password_for(self.user)
        return cleaned


class TimeZoneForm(forms.Form):
    """A person's own time zone; blank follows the team's."""

    time_zone = forms.ChoiceField(label="Time zone", required=False)

    def __init__(self, *args, current: str = "", **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        team = team_time_zone_name()
        field = self.fields["time_zone"]
        field.choices = [("", f"The team's time zone ({team})"), *time_zone_choices(current)]
        field.help_text = (
            "Every page and export shows times in this zone. Senders keep their own working hours, "
            "in their own time zones."
        )
        field.initial = current
