from django.urls import path

from . import api, views

app_name = "outx_sandbox"

urlpatterns = [
    path("", views.control, name="control"),
    path("reset", views.reset, name="reset"),
    # The OutX API, under the same paths as https://api.outx.ai
    path("linkedin-agent/send-connection-request", api.send_connection_request, name="send_connection_request"),
    path("linkedin-agent/get-task-status", api.get_task_status, name="get_task_status"),
    path("linkedin-agent/fetch-profile", api.fetch_profile, name="fetch_profile"),
    path("linkedin-agent/fetch-connections", api.fetch_connections, name="fetch_connections"),
    path("linkedin-agent/send-message", api.send_message, name="send_message"),
    path("linkedin-agent/search-profiles", api.search_profiles, name="search_profiles"),
]
