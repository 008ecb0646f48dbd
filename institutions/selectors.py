"""Reads for the account pages (who may see which institution is institutions.access)."""

from rest_framework.authtoken.models import Token

from .models import ApiToken, User


def pending_sign_in(pk) -> User | None:
    """The active user whose password was checked and whose second factor is awaited."""
    return User.objects.filter(pk=pk, is_active=True).first()


def live_api_token(user) -> ApiToken | None:
    """The user's own token record that still has a live key."""
    return ApiToken.objects.filter(user=user, token__isnull=False).first()


def api_key_of(user) -> Token | None:
    """The user's current key for /api/v1/ (none if never issued or revoked)."""
    return Token.objects.filter(user=user).first()
