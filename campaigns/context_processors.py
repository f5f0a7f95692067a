from .models import SendingAccount


def sending_account(request) -> dict:
    """The sending account on every page, for the banner that says when sending is stopped."""
    if not request.user.is_authenticated:
        return {}
    return {"sending_account": SendingAccount.get()}
