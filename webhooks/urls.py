from django.urls import path

from . import views

urlpatterns = [
    path("", views.webhook_list, name="webhook_list"),
    path("new/", views.webhook_create, name="webhook_create"),
    path("<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("<int:pk>/rotate-secret/", views.webhook_rotate_secret, name="webhook_rotate_secret"),
    path("<int:pk>/enable/", views.webhook_enable, name="webhook_enable"),
    path("<int:pk>/disable/", views.webhook_disable, name="webhook_disable"),
    path("<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
    path("deliveries/<int:pk>/send-again/", views.webhook_send_again, name="webhook_send_again"),
]
