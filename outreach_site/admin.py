from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


class OutreachAdminSite(admin.AdminSite):
    """Django's admin, whose own password change goes to the site's, which counts wrong
    current passwords as login attempts (outreach_site/accounts.py): one form, throttled."""

    def password_change(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return redirect("password_change")
