from .models import OLD_INVITATION_AGE_TEXT, SendingAccount
from .notes import NOTE_MAX_LENGTH


def sending_account(request) -> dict:
    """The sending account on every page, for the banner that says when sending is stopped."""
    if not request.user.is_authenticated:
        return {}
    return {"sending_account": SendingAccount.get()}


def limits(request) -> dict:
    """The rules the pages state in words, from the one place each is defined."""
    return {"note_max_length": NOTE_MAX_LENGTH, "old_invitation_age": OLD_INVITATION_AGE_TEXT}
