from django.contrib.admin.apps import AdminConfig


class OutreachAdminConfig(AdminConfig):
    """django.contrib.admin, with the site of outreach_site/admin.py."""

    default_site = "outreach_site.admin.OutreachAdminSite"
