"""A person's own settings (their time zone), and the rules for managing people: roles,
deactivation, passwords. An admin is a user with `is_staff` (the "admin" role everywhere in
the code); a member is any other user. Every change is recorded in Django's admin log
(LogEntry), which the admin's history and the person's page both show."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction

from campaigns.models import Sender, validate_time_zone


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


ROLE_MEANINGS = {
    Role.ADMIN: "manages senders, users and webhooks, may use every sender and change every campaign",
    Role.MEMBER: "runs their own campaigns on the senders they are given",
}


class Profile(models.Model):
    """What a person sets for themself: the time zone every page shows times in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone],
        help_text="Blank: the team's time zone (the first sender's).",
    )

    def __str__(self) -> str:
        return f"{self.user.get_username()}: {self.time_zone or 'team time zone'}"

    @classmethod
    def time_zone_of(cls, user) -> tuple[str, bool]:
        """(The zone `user` sees times in, whether they chose it), in one query: their own
        choice, else the team's (the first sender's), else the site's UTC."""
        first_sender = Sender.objects.order_by("pk").values("time_zone")[:1]
        row = (
            get_user_model().objects.filter(pk=user.pk)
            .values_list("profile__time_zone", models.Subquery(first_sender))
            .first()
        )
        own, team = row if row else ("", None)
        return (own, True) if own else (team or settings.TIME_ZONE, False)

    @classmethod
    def set_time_zone(cls, user, time_zone: str) -> None:
        """Blank means the team's zone, which needs no row: going back to it removes the row."""
        if time_zone:
            cls.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
        else:
            cls.objects.filter(user=user).delete()


def role_of(user) -> str:
    return Role.ADMIN if user.is_staff else Role.MEMBER


def active_admins():
    return get_user_model().objects.filter(is_active=True, is_staff=True)


def generated_password() -> str:
    """A password to hand over once: 16 URL-safe characters (96 bits), easy to copy."""
    return secrets.token_urlsafe(12)


def record(actor, user, message: str, flag: int = CHANGE) -> None:
    """Who did what to whom, in Django's admin log (its "history" of that user)."""
    LogEntry.objects.log_actions(
        actor.pk, get_user_model().objects.filter(pk=user.pk), flag, message, single_object=True
    )


def history_of(user, limit: int = 20):
    """The latest changes made to `user` through these pages or the admin, newest first."""
    from django.contrib.contenttypes.models import ContentType

    return (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(get_user_model()), object_id=str(user.pk))
        .select_related("user").order_by("-action_time", "-pk")[:limit]
    )


# --- The guards: an admin never locks the team out ------------------------------------------------


def role_refusal(actor, user, role: str) -> str:
    """Why `actor` may not give `user` the role `role` now, or ""."""
    if role not in Role.values:
        return "Choose Admin or Member."
    if role_of(user) == role:
        return f"{user.get_username()} is already {'an admin' if role == Role.ADMIN else 'a member'}."
    if role == Role.MEMBER and user.pk == actor.pk:
        return "You cannot make yourself a member: another admin must do it, so the team always keeps an admin."
    if role == Role.MEMBER and user.is_active and not active_admins().exclude(pk=user.pk).exists():
        return f"{user.get_username()} is the last active admin: make someone else an admin first."
    return ""


def deactivation_refusal(actor, user) -> str:
    if not user.is_active:
        return f"{user.get_username()} is already deactivated."
    if user.pk == actor.pk:
        return "You cannot deactivate yourself: another admin must do it, so the team always keeps an admin."
    if user.is_staff and not active_admins().exclude(pk=user.pk).exists():
        return f"{user.get_username()} is the last active admin: make someone else an admin first."
    return ""


def lock_admins() -> None:
    """Take the admins' rows for this transaction, so two admins demoting each other at once
    cannot both pass the "another admin remains" check (SQLite's IMMEDIATE transactions
    already serialise writers)."""
    list(active_admins().select_for_update().values_list("pk", flat=True))


def set_role(actor, user, role: str) -> str:
    """Make `user` an admin or a member; raises ValueError with the refusal. Returns the message."""
    with transaction.atomic():
        lock_admins()
        refusal = role_refusal(actor, user, role)
        if refusal:
            raise ValueError(refusal)
        user.is_staff = role == Role.ADMIN
        if not user.is_staff:
            user.is_superuser = False  # a member has no admin power anywhere, the Django admin included
        user.save(update_fields=["is_staff", "is_superuser"])
        record(actor, user, f"Role changed to {Role(role).label} by {actor.get_username()}.")
    if role == Role.ADMIN:
        return f"{user.get_username()} is now an admin: they may manage senders, users and webhooks."
    return f"{user.get_username()} is now a member."


def set_active(actor, user, active: bool) -> str:
    """Deactivate (they can no longer log in; their session and API tokens stop working at
    once, as Django's ModelBackend refuses inactive users) or reactivate `user`."""
    with transaction.atomic():
        lock_admins()
        if active:
            if user.is_active:
                raise ValueError(f"{user.get_username()} is already active.")
        elif refusal := deactivation_refusal(actor, user):
            raise ValueError(refusal)
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(actor, user, f"{'Reactivated' if active else 'Deactivated'} by {actor.get_username()}.")
    if active:
        return f"{user.get_username()} is active again and may log in."
    return (
        f"{user.get_username()} is deactivated: they can no longer log in, and their open sessions and API "
        "tokens stop working. Their campaigns and history stay."
    )


def set_password(actor, user: AbstractBaseUser, password: str) -> None:
    """A new password set by an admin. Their sessions end (Django ties a session to the
    password), and a login lockout on their username is lifted (django-axes), so they can log
    in with it now."""
    from axes.handlers.proxy import AxesProxyHandler

    user.set_password(password)
    user.save(update_fields=["password"])
    if settings.AXES_ENABLED:
        AxesProxyHandler.reset_attempts(username=user.get_username())
    record(actor, user, f"Password reset by {actor.get_username()}.")


def create_user(actor, *, username: str, first_name: str, last_name: str, email: str, role: str, password: str,
                senders=()):
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username, email=email, password=password, first_name=first_name, last_name=last_name,
            is_staff=role == Role.ADMIN,
        )
        if senders:
            user.senders.set(senders)
        record(actor, user, f"Added as {Role(role).label.lower()} by {actor.get_username()}.", ADDITION)
    return user


def set_senders(actor, user, chosen) -> str:
    """Which working senders `user` may launch on; retired senders keep their old users."""
    chosen = set(chosen)
    with transaction.atomic():
        working = set(Sender.objects.working())
        current = set(user.senders.working())
        added, removed = chosen - current, (current - chosen) & working
        user.senders.add(*added)
        user.senders.remove(*removed)
        if added or removed:
            names = ", ".join(sorted(s.name for s in chosen)) or "none"
            record(actor, user, f"Senders set to {names} by {actor.get_username()}.")
    if not (added or removed):
        return f"{user.get_username()}'s senders were already these."
    return f"{user.get_username()}'s senders saved."
