from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaigns import keys
from campaigns.models import Sender


class Command(BaseCommand):
    help = (
        "Re-encrypt every sender's stored OutX API key with the first key of OUTREACH_ENCRYPTION_KEYS. "
        "Put a new key first, run this, then drop the old key. Keys stored before OUTREACH_ENCRYPTION_KEYS "
        "was set (encrypted with a key derived from DJANGO_SECRET_KEY) are moved over too."
    )

    def handle(self, *args, **options) -> None:
        if not settings.OUTREACH_ENCRYPTION_KEYS:
            raise CommandError(
                "OUTREACH_ENCRYPTION_KEYS is not set: there is no key to re-encrypt with. Set it to a Fernet key "
                "(newest first) and run this again."
            )
        stored = Sender.objects.exclude(api_key_encrypted="").order_by("pk")
        # All or nothing: a key that cannot be read stops the run before anything changes.
        with transaction.atomic():
            rotated = [self.rotate(sender) for sender in stored.select_for_update()]
        self.stdout.write(
            f"Re-encrypted {len(rotated)} sender key{'s' if len(rotated) != 1 else ''} with the first key of "
            "OUTREACH_ENCRYPTION_KEYS. Every other key may now be dropped from it."
        )

    def rotate(self, sender: Sender) -> Sender:
        try:
            token = keys.rotate(sender.api_key_encrypted)
        except InvalidToken:
            token = self.from_secret_key(sender)
        # Only the token: the worker may be saving the sender's state at this moment.
        Sender.objects.filter(pk=sender.pk).update(api_key_encrypted=token)
        return sender

    def from_secret_key(self, sender: Sender) -> str:
        """A key stored while OUTREACH_ENCRYPTION_KEYS was unset, encrypted with the key derived
        from DJANGO_SECRET_KEY: read with that, encrypted with the configured one."""
        try:
            plain = Fernet(keys.derived_key(settings.SECRET_KEY)).decrypt(sender.api_key_encrypted.encode())
        except InvalidToken:
            raise CommandError(
                f"The key of sender {sender.name} (#{sender.pk}) cannot be read with any key of "
                "OUTREACH_ENCRYPTION_KEYS, nor with DJANGO_SECRET_KEY's: put back the key it was encrypted with. "
                "Nothing was changed."
            ) from None
        return keys.encrypt(plain.decode())
