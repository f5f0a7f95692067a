from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import accounts

urlpatterns = [
    # django.contrib.auth.urls without password reset: it mails a link, this site sends no
    # mail, and its pages would be the only ones open to anonymous visitors besides login.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Throttled as the login is: wrong current passwords count as failed logins (django-axes).
    path("accounts/password_change/", accounts.password_change, name="password_change"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("webhooks/", include("webhooks.urls")),
    path("", include("campaigns.urls")),
    # The account page (API tokens) and the JSON API at /api/v1/ (docs/api.md).
    path("", include("api.urls")),
    # Users and roles, for admins; a person's own time zone (people/).
    path("", include("people.urls")),
]

if settings.OUTX_SANDBOX:
    urlpatterns.append(path("outx-sandbox/", include("outx_sandbox.urls")))
