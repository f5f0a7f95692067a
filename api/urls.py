from django.urls import path

from . import views
from .api import api

urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/tokens/", views.token_create, name="api_token_create"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
    path("api/v1/", api.urls),
]
