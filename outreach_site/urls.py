from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("campaigns.urls")),
]

if settings.OUTX_SANDBOX:
    urlpatterns.append(path("outx-sandbox/", include("outx_sandbox.urls")))
