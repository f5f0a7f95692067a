from django.urls import path

from .views import campaigns, home, notes, prospects, review, settings

urlpatterns = [
    path("", home.home, name="home"),
    # Campaigns
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/status/", campaigns.campaign_status, name="campaign_status"),
    path("campaigns/<int:pk>/note-preview/", notes.note_preview, name="note_preview"),
    path("note-preview/", notes.note_preview, name="note_preview_new"),
    path("campaigns/<int:pk>/<str:action>/", campaigns.campaign_action, name="campaign_action"),
    path("requests/<int:pk>/<str:action>/", campaigns.request_action, name="request_action"),
    # Prospects
    path("campaigns/<int:pk>/prospects/add/", prospects.prospects_add, name="prospects_add"),
    path("campaigns/<int:pk>/prospects/import/", prospects.prospects_import, name="prospects_import"),
    path(
        "campaigns/<int:pk>/prospects/import/<str:token>/",
        prospects.prospects_import_map,
        name="prospects_import_map",
    ),
    # Review
    path("review/", review.review, name="review"),
    path("review/export.csv", review.review_export, name="review_export"),
    path("review/<int:pk>/", review.request_detail, name="request_detail"),
    # Settings (admins)
    path("settings/", settings.settings_page, name="settings"),
    path("settings/test-connection/", settings.test_connection, name="settings_test_connection"),
    path("settings/resume/", settings.resume_account, name="settings_resume_account"),
]
