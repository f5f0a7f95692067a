from django.urls import path

from .views import campaigns, donotcontact, home, notes, prospects, review, search, senders

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
    # Before campaign_action, whose <str:action> would take this path too.
    path("campaigns/<int:pk>/skip-unsendable/", campaigns.campaign_skip_unsendable, name="campaign_skip_unsendable"),
    path("campaigns/<int:pk>/<str:action>/", campaigns.campaign_action, name="campaign_action"),
    # Before request_action, whose <str:action> would take these paths too.
    path("requests/<int:pk>/response/", campaigns.request_response, name="request_response"),
    path("requests/<int:pk>/do-not-contact/", campaigns.request_do_not_contact, name="request_do_not_contact"),
    path("requests/<int:pk>/<str:action>/", campaigns.request_action, name="request_action"),
    # Prospects
    path("campaigns/<int:pk>/prospects/add/", prospects.prospects_add, name="prospects_add"),
    path("campaigns/<int:pk>/prospects/import/", prospects.prospects_import, name="prospects_import"),
    path(
        "campaigns/<int:pk>/prospects/import/<str:token>/",
        prospects.prospects_import_map,
        name="prospects_import_map",
    ),
    path(
        "campaigns/<int:pk>/prospects/import/<str:token>/rows-to-fix.csv",
        prospects.prospects_import_problems,
        name="prospects_import_problems",
    ),
    # Find prospects (OutX's search)
    path("search/", search.search, name="search"),
    path("search/<int:pk>/", search.search_detail, name="search_detail"),
    path("search/<int:pk>/status/", search.search_status, name="search_status"),
    path("search/<int:pk>/add/", search.search_add, name="search_add"),
    path("search/<int:pk>/next/", search.search_next, name="search_next"),
    # Review
    path("review/", review.review, name="review"),
    path("review/export.csv", review.review_export, name="review_export"),
    path("review/campaigns/", review.review_campaign_names, name="review_campaign_names"),
    path("review/<int:pk>/", review.request_detail, name="request_detail"),
    # The do-not-contact list
    path("do-not-contact/", donotcontact.do_not_contact, name="do_not_contact"),
    path("do-not-contact/add/", donotcontact.do_not_contact_add, name="do_not_contact_add"),
    path("do-not-contact/import/", donotcontact.do_not_contact_import, name="do_not_contact_import"),
    path("do-not-contact/export.csv", donotcontact.do_not_contact_export, name="do_not_contact_export"),
    path("do-not-contact/<int:pk>/remove/", donotcontact.do_not_contact_remove, name="do_not_contact_remove"),
    # Senders (admins); /settings/ was their page before there were several
    path("settings/", senders.settings_redirect, name="settings"),
    path("senders/", senders.sender_list, name="sender_list"),
    path("senders/new/", senders.sender_create, name="sender_create"),
    path("senders/<int:pk>/", senders.sender_detail, name="sender_detail"),
    path("senders/<int:pk>/state/", senders.sender_state, name="sender_state"),
    path("senders/<int:pk>/test-connection/", senders.sender_test_connection, name="sender_test_connection"),
    path("senders/<int:pk>/retire/", senders.sender_retire, name="sender_retire"),
    path("senders/<int:pk>/delete/", senders.sender_delete, name="sender_delete"),
]
