"""Every API token gets its record (models.ApiToken), whichever code creates the token: the portal's
services, DRF's drf_create_token command, a test. A token without a record could be neither listed nor
revoked by an admin, so institutions/authentication.py refuses it."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from .models import ApiToken

KEY_PREFIX_LENGTH = 4  # what the token pages show of a key (registration/api_token.html)


@receiver(post_save, sender=Token, dispatch_uid="institutions.record_api_token")
def record_api_token(sender, instance: Token, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    user = instance.user
    ApiToken.objects.create(
        token=instance,
        user=user,
        institution_id=user.institution_id,
        office_id=user.office_id,
        key_prefix=instance.key[:KEY_PREFIX_LENGTH],
        created_at=instance.created,
    )
