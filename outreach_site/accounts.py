"""A user's own account: the password change, throttled as the login is (django-axes).

Django's PasswordChangeForm checks the current password with user.check_password(), which
django-axes never sees: a stolen session could guess the password without limit, and then
change it. Here the current password goes through authenticate(), so a wrong one counts as a
failed login for that username and address, and a locked pair is refused before any password
is checked. Five failures, login or password change, lock both for the cool-off.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_cool_off_iso8601, get_failure_limit
from django.conf import settings
from django.contrib.auth import authenticate, forms, update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

PASSWORD_CHANGE_LOCKED_TEMPLATE = "registration/password_change_locked.html"


class ThrottledPasswordChangeForm(forms.PasswordChangeForm):
    """Django's form, checking the current password through authenticate() (and so axes)."""

    def __init__(self, request: HttpRequest, *args, **kwargs):
        self.request = request
        super().__init__(request.user, *args, **kwargs)

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        # A locked username and address makes the axes backend refuse before the password is
        # checked (and mark the request, so its middleware answers with the lockout page); a
        # wrong password sends user_login_failed, which axes counts.
        user = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if user is None or user.pk != self.user.pk:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    credentials = {"username": request.user.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        # Locked out: not even the form; authenticate() would refuse the right password too.
        return lockout_response(request, None, credentials)
    if request.method == "POST":
        form = ThrottledPasswordChangeForm(request, request.POST)
        if form.is_valid():
            form.save()
            update_session_auth_hash(request, form.user)  # stay logged in here
            if settings.AXES_ENABLED and settings.AXES_RESET_ON_SUCCESS:
                # Right, as a successful login is: the count of wrong guesses starts again.
                AxesProxyHandler.reset_attempts(
                    ip_address=request.axes_ip_address, username=credentials["username"]
                )
            return redirect("password_change_done")
        # The wrong password that reaches the limit: axes' middleware answers the lockout page.
    else:
        form = ThrottledPasswordChangeForm(request)
    return TemplateResponse(
        request, "registration/password_change_form.html", {"form": form, "title": "Password change"}
    )


def lockout_response(request: HttpRequest, original_response, credentials: dict | None) -> HttpResponse:
    """django-axes' lockout page (AXES_LOCKOUT_CALLABLE), HTTP 429: its login page as before,
    and one that speaks of the password change there."""
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "cooloff_timedelta": cool_off,
        "cooloff_time": get_cool_off_iso8601(cool_off) if cool_off else None,
        "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }
    changing_password = request.path == reverse("password_change")
    template = PASSWORD_CHANGE_LOCKED_TEMPLATE if changing_password else settings.AXES_LOCKOUT_TEMPLATE
    return render(request, template, context, status=settings.AXES_HTTP_RESPONSE_CODE)

