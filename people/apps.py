from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """The team's people: users and their roles, managed by admins in the app, and each
    person's own time zone, in which every page shows its times."""

    name = "people"
    verbose_name = "People"
