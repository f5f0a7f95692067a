from django.urls import path

from . import views

urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/role/", views.user_role, name="user_role"),
    path("users/<int:pk>/active/", views.user_active, name="user_active"),
    path("users/<int:pk>/senders/", views.user_senders, name="user_senders"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    path("account/time-zone/", views.account_time_zone, name="account_time_zone"),
]
